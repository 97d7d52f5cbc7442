"""MetadataStore contract: runs, tasks and attempts (SQLite and Postgres)."""

from __future__ import annotations

import pytest

from conveyor.stores.metadata import UNSET, MetadataStoreError, NotFoundError


def test_create_and_get_run_round_trips_every_field(metadata_store):
    created = metadata_store.create_run(
        "r1", "training", "sha256:p", '{"tasks": []}', arguments={"n": 3, "lr": 0.1}, profile_name="dev-aws",
        labels={"team": "ml"}, now=10.0)
    got = metadata_store.get_run("r1")
    assert got == created
    assert (got.pipeline_name, got.spec_json, got.arguments, got.labels) == (
        "training", '{"tasks": []}', {"n": 3, "lr": 0.1}, {"team": "ml"})
    assert (got.status, got.profile_name, got.created_at, got.started_at, got.cost_usd) == (
        "queued", "dev-aws", 10.0, None, 0.0)


def test_run_status_lifecycle_stamps_times(metadata_store):
    metadata_store.create_run("r1", "p", "d", "{}", now=1.0)
    assert metadata_store.set_run_status("r1", "running", now=2.0).started_at == 2.0
    failed = metadata_store.set_run_status("r1", "failed", error="boom", now=5.0)
    assert (failed.status, failed.error, failed.started_at, failed.ended_at, failed.duration_s) == (
        "failed", "boom", 2.0, 5.0, 3.0)
    resumed = metadata_store.set_run_status("r1", "running", now=7.0)  # resume keeps the first start
    assert (resumed.started_at, resumed.ended_at, resumed.error) == (2.0, None, None)


def test_run_errors_are_specific(metadata_store):
    metadata_store.create_run("r1", "p", "d", "{}")
    assert metadata_store.create_run("r1", "p", "d", "{}").run_id == "r1"  # an idempotent replay
    with pytest.raises(MetadataStoreError, match="run 'r1' already exists"):
        metadata_store.create_run("r1", "other", "d2", "{}")
    with pytest.raises(NotFoundError, match="run 'nope' does not exist"):
        metadata_store.get_run("nope")
    with pytest.raises(NotFoundError, match="run 'nope'"):
        metadata_store.set_run_status("nope", "running")
    with pytest.raises(MetadataStoreError, match="run status 'done' is not one of queued"):
        metadata_store.set_run_status("r1", "done")
    with pytest.raises(MetadataStoreError, match="arguments of run 'r2' is not JSON-serialisable"):
        metadata_store.create_run("r2", "p", "d", "{}", arguments={"x": object()})


def test_run_outputs(metadata_store):
    metadata_store.create_run("r1", "p", "d", "{}")
    metadata_store.set_run_outputs("r1", {"accuracy": 0.93, "model": {"uri": "s3://b/m"}})
    assert metadata_store.get_run("r1").outputs == {"accuracy": 0.93, "model": {"uri": "s3://b/m"}}


def test_list_runs_filters_and_orders(metadata_store):
    for i, (name, cost, dur) in enumerate([("a", 3.0, 10.0), ("b", 1.0, 30.0), ("a", 2.0, 20.0)]):
        run_id = f"r{i}"
        metadata_store.create_run(run_id, name, "d", "{}", status="running", now=100.0 + i)
        metadata_store.upsert_task(run_id, "t", task_name="t", status="succeeded", cost_usd=cost)
        metadata_store.set_run_status(run_id, "succeeded" if i != 1 else "failed", now=100.0 + i + dur)
    ids = lambda runs: [r.run_id for r in runs]  # noqa: E731
    assert ids(metadata_store.list_runs()) == ["r2", "r1", "r0"]
    assert ids(metadata_store.list_runs(order_by="created_at")) == ["r0", "r1", "r2"]
    assert ids(metadata_store.list_runs(order_by="-cost")) == ["r0", "r2", "r1"]
    assert ids(metadata_store.list_runs(order_by="-duration")) == ["r1", "r2", "r0"]
    assert ids(metadata_store.list_runs(pipeline="a")) == ["r2", "r0"]
    assert ids(metadata_store.list_runs(status="failed")) == ["r1"]
    assert ids(metadata_store.list_runs(limit=1)) == ["r2"]
    assert metadata_store.list_runs(order_by="cost")[0].cost_usd == 1.0
    with pytest.raises(MetadataStoreError, match="run ordering 'speed'"):
        metadata_store.list_runs(order_by="speed")


def test_upsert_task_creates_then_updates_only_passed_fields(metadata_store):
    metadata_store.create_run("r1", "p", "d", "{}")
    t = metadata_store.upsert_task("r1", "train[2]", task_name="train", status="running", cache_key="k",
                                   started_at=5.0, error="old", now=5.0)
    assert (t.task_id, t.task_name, t.status, t.cache_key, t.attempts) == ("train[2]", "train", "running", "k", 0)
    t = metadata_store.upsert_task("r1", "train[2]", status="succeeded", outputs={"parameters": {"x": 1}},
                                   error=None, duration_s=2.5, peak_rss_mb=100.0, cpu_time_s=2.0, cost_usd=0.01,
                                   now=7.5)
    assert (t.status, t.cache_key, t.started_at, t.error, t.outputs, t.duration_s, t.updated_at) == (
        "succeeded", "k", 5.0, None, {"parameters": {"x": 1}}, 2.5, 7.5)
    t = metadata_store.upsert_task("r1", "train[2]", peak_rss_mb=UNSET, saved_s=1.0)
    assert (t.peak_rss_mb, t.saved_s) == (100.0, 1.0)


def test_upsert_task_errors(metadata_store):
    metadata_store.create_run("r1", "p", "d", "{}")
    with pytest.raises(MetadataStoreError, match="needs task_name and status"):
        metadata_store.upsert_task("r1", "t", status="running")
    with pytest.raises(NotFoundError, match="run 'zz' does not exist"):
        metadata_store.upsert_task("zz", "t", task_name="t", status="running")
    with pytest.raises(MetadataStoreError, match="status of task 't' 'ok' is not one of"):
        metadata_store.upsert_task("r1", "t", task_name="t", status="ok")
    with pytest.raises(NotFoundError, match="task 'x' of run 'r1'"):
        metadata_store.get_task("r1", "x")


def test_list_and_completed_tasks(metadata_store):
    metadata_store.create_run("r1", "p", "d", "{}")
    for i, status in enumerate(["succeeded", "cached", "failed", "pending", "skipped"]):
        metadata_store.upsert_task("r1", f"t{i}", task_name="t", status=status, now=float(i))
    assert [t.task_id for t in metadata_store.list_tasks("r1")] == ["t0", "t1", "t2", "t3", "t4"]
    assert sorted(metadata_store.completed_tasks("r1")) == ["t0", "t1"]
    assert metadata_store.list_tasks("other") == []


def test_attempts_lifecycle(run_with_task):
    store = run_with_task
    first = store.start_attempt("r1", "t", 1, pid=4242, now=1.0)
    done = store.finish_attempt(first, "failed", failure_class="transient", error="flaky", exit_code=1,
                                peak_rss_mb=12.5, cpu_time_s=0.5, now=2.0)
    assert (done.status, done.failure_class, done.exit_code, done.ended_at, done.pid) == (
        "failed", "transient", 1, 2.0, 4242)
    second = store.start_attempt("r1", "t", 2, pid=4343, now=3.0)
    store.finish_attempt(second, "succeeded", now=4.0)
    attempts = store.list_attempts("r1", "t")
    assert [(a.number, a.status) for a in attempts] == [(1, "failed"), (2, "succeeded")]
    assert store.get_task("r1", "t").attempts == 2


def test_start_attempt_is_idempotent_per_number(run_with_task):
    a = run_with_task.start_attempt("r1", "t", 1, pid=1)
    assert run_with_task.start_attempt("r1", "t", 1, pid=2) == a  # a replay after a lost connection
    assert [x.pid for x in run_with_task.list_attempts("r1")] == [2]


def test_attempt_errors(run_with_task):
    with pytest.raises(NotFoundError, match="task 'ghost' of run 'r1'"):
        run_with_task.start_attempt("r1", "ghost", 1)
    a = run_with_task.start_attempt("r1", "t", 1)
    with pytest.raises(MetadataStoreError, match="failure class 'weird'"):
        run_with_task.finish_attempt(a, "failed", failure_class="weird")
    with pytest.raises(MetadataStoreError, match="attempt status 'running'"):
        run_with_task.finish_attempt(a, "running")
    with pytest.raises(NotFoundError, match="attempt 999999"):
        run_with_task.finish_attempt(999999, "succeeded")


def test_mark_stale_attempts_closes_only_running_ones_of_that_run(run_with_task):
    store = run_with_task
    store.create_run("r2", "p", "d", "{}")
    store.upsert_task("r2", "t", task_name="t", status="running")
    done = store.start_attempt("r1", "t", 1)
    store.finish_attempt(done, "succeeded")
    store.start_attempt("r1", "t", 2)
    store.start_attempt("r2", "t", 1)
    assert store.mark_stale_attempts("r1", now=9.0) == 1
    stale = store.list_attempts("r1")[1]
    assert (stale.status, stale.failure_class, stale.ended_at) == ("failed", "killed", 9.0)
    assert store.list_attempts("r2")[0].status == "running"
    assert store.mark_stale_attempts("r1") == 0
