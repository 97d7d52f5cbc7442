"""Fault injection in the services a run depends on: Postgres restarts, S3 errors, webhooks down.

Why: a run is only as reliable as its weakest dependency. Each case uses the real service
(tests/services) and breaks it for a while: Postgres restarts while tasks run (every pooled
connection dies), the S3 endpoint answers 500/503 through a fault-injecting proxy, the
notification endpoint refuses connections or hangs. Each asserts the classification (what the
store recorded about the attempts) and the outcome (completed, nothing lost or duplicated, or a
clean failure), and for notifications that the run's result is unchanged and the delay bounded.
"""

from __future__ import annotations

import threading
import time

import pytest

from tests.reliability import pipelines
from tests.reliability.helpers import FULL, check_run_integrity, cli_env, marks_by_task, run_cli, wait_for

pytestmark = pytest.mark.reliability

NOTIFY_BUDGET_S = 10.0  # notify.delivery: total_timeout_s per target


@pytest.fixture
def services_file(tmp_path):
    marks = tmp_path / "marks"
    return pipelines.write(tmp_path, "services", pipelines.SERVICES, marks), marks


def _run(profile, home, path, arguments=None):
    from conveyor.executor.run import LocalRunner, RunOptions
    from conveyor.runtime.loader import find_pipeline

    runner = LocalRunner(profile=profile, home=home)
    try:
        spec = find_pipeline(path).pipeline_spec
        return runner.run(spec, arguments or {}, options=RunOptions(parallelism=2), preload=[str(path)])
    finally:
        runner.close()


def _check(profile, run_id):
    from conveyor.stores.artifacts import open_artifact_store
    from conveyor.stores.metadata import open_metadata_store

    store = open_metadata_store(profile.metadata_url.get_secret_value())
    try:
        problems = check_run_integrity(store, open_artifact_store(profile.artifact_root), run_id)
        return store.get_run(run_id), store.list_tasks(run_id), store.list_attempts(run_id), problems
    finally:
        store.close()


# -- Postgres ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["fast", *(["immediate"] if FULL else [])])
def test_postgres_restart_mid_run_reconnects_and_loses_nothing(mode, postgres_server, fresh_postgres_db,
                                                               services_file, tmp_path):
    """`fast` closes every connection; `immediate` kills the server without a checkpoint, as a crash
    would. The test server trades durability for speed (synchronous_commit=off), which would let an
    immediate stop drop acknowledged commits, so this database asks for what production Postgres has."""
    from conveyor.profile import Profile

    dbname = fresh_postgres_db.rsplit("/", 1)[1].split("?")[0]
    with postgres_server.connect(dbname, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{dbname}" SET synchronous_commit = on')

    path, marks = services_file
    profile = Profile(artifact_root=(tmp_path / "artifacts").as_uri(), metadata_url=fresh_postgres_db)
    box: dict = {}
    thread = threading.Thread(target=lambda: box.update(result=_run(profile, tmp_path / "home", path)))
    thread.start()
    try:
        wait_for(lambda: sum(marks_by_task(marks).values()) >= 3 or not thread.is_alive(), 60, "3 tasks")
        postgres_server.restart(mode)  # every pooled connection breaks; `immediate` skips the checkpoint
        restarted_mid_run = thread.is_alive()
    finally:
        thread.join(120)
    assert not thread.is_alive(), "the run hung after the restart"
    assert restarted_mid_run, "the run ended before Postgres restarted; the case tested nothing"
    result = box["result"]
    assert result.status == "succeeded", result.error
    assert result.outputs == {"Output": pipelines.SERVICES_OUTPUT}
    run, tasks, attempts, problems = _check(profile, result.run_id)
    assert not problems, problems
    assert run.status == "succeeded" and run.outputs == result.outputs
    assert len(tasks) == 7 and all(t.status == "succeeded" for t in tasks)
    assert sorted((a.task_id, a.number, a.status) for a in attempts) == sorted(
        (t.task_id, 1, "succeeded") for t in tasks), "an attempt was lost or recorded twice"
    assert all(n == 1 for n in marks_by_task(marks).values()), "a task ran twice"


# -- S3 ----------------------------------------------------------------------------------------------

@pytest.fixture
def s3_profile(s3_faulty_proxy, monkeypatch, tmp_path):
    from conveyor.profile import Profile

    for key, value in s3_faulty_proxy.env().items():
        monkeypatch.setenv(key, value)  # the runner and (through the fork server) every task see them
    bucket = s3_faulty_proxy.create_bucket()
    return Profile(artifact_root=f"s3://{bucket}/runs", metadata_url=f"sqlite:///{tmp_path / 'metadata.db'}")


@pytest.mark.parametrize("status", [500, 503])
def test_s3_errors_for_a_while_are_retried_and_uploads_complete(status, s3_faulty_proxy, s3_profile,
                                                                 services_file, tmp_path):
    path, marks = services_file
    s3_faulty_proxy.fail_next(3, status)
    result = _run(s3_profile, tmp_path / "home", path)
    assert s3_faulty_proxy.faults_served == 3
    assert result.status == "succeeded", result.error
    assert result.outputs == {"Output": pipelines.SERVICES_OUTPUT}
    run, tasks, attempts, problems = _check(s3_profile, result.run_id)
    assert not problems, problems  # every artifact is in the bucket with its digest (re-hashed)
    assert all(a.status == "succeeded" and a.number == 1 for a in attempts)  # the client's retries absorbed it


CLIENT_ATTEMPTS = 9  # S3ArtifactStore: retries={"max_attempts": 8} means 8 retries after the first try


def test_s3_outage_past_client_retries_fails_the_attempt_as_transient_then_recovers(
        s3_faulty_proxy, s3_profile, services_file, tmp_path):
    path, marks = services_file
    s3_faulty_proxy.fail_next(CLIENT_ATTEMPTS, 500)  # every try boto3 makes for the task's first request
    result = _run(s3_profile, tmp_path / "home", path, {"items": [0], "seconds": 0.0})
    assert result.status == "succeeded", result.error
    run, tasks, attempts, problems = _check(s3_profile, result.run_id)
    assert not problems, problems
    first = [a for a in attempts if a.task_id == "produce[0]"]
    assert [(a.status, a.failure_class) for a in first] == [("failed", "transient"), ("succeeded", None)]
    assert "HTTP 500" in first[0].error and s3_faulty_proxy.faults_served == CLIENT_ATTEMPTS


def test_s3_down_for_good_fails_cleanly_with_nothing_marked_complete(
        s3_faulty_proxy, s3_profile, services_file, tmp_path):
    marks = tmp_path / "marks"
    path = pipelines.write(tmp_path, "no_retries", pipelines.SERVICES.replace("RETRIES = 3", "RETRIES = 0"), marks)
    s3_faulty_proxy.fail_next(10_000, 500)
    try:
        result = _run(s3_profile, tmp_path / "home", path, {"items": [0], "seconds": 0.0})
    finally:
        s3_faulty_proxy.reset()
    assert result.status == "failed" and "HTTP 500" in result.error
    run, tasks, attempts, problems = _check(s3_profile, result.run_id)
    assert not problems, problems
    assert run.status == "failed"
    assert {t.task_id: t.status for t in tasks} == {"produce[0]": "failed", "gather": "skipped"}
    assert [(a.status, a.failure_class) for a in attempts] == [("failed", "transient")]


# -- notifications -----------------------------------------------------------------------------------

TINY = '''
@dsl.component
def step(fail: bool) -> int:
    mark()
    if fail:
        raise dsl.PermanentError("the quality gate rejected the model")
    return 7


@dsl.pipeline(name="tiny")
def tiny(fail: bool = False) -> int:
    return step(fail=fail).output
'''


def _notify_run(tmp_path, target: str, fail: bool = False):
    path = pipelines.write(tmp_path, "tiny", TINY, tmp_path / "marks")
    home = tmp_path / "home"
    started = time.monotonic()
    res = run_cli("run", str(path), "--json", "--no-cache", "--notify", target, "-p", f"fail={fail}",
                  home=home, cwd=tmp_path, env=cli_env(home), timeout=90)
    return res, time.monotonic() - started


NOTIFY_CASES = [("down", False), ("hanging", True)] + ([("down", True), ("hanging", False)] if FULL else [])


@pytest.mark.parametrize(("endpoint", "fail"), NOTIFY_CASES,
                         ids=[f"{e}-{'run-failed' if f else 'run-ok'}" for e, f in NOTIFY_CASES])
def test_notification_endpoint_down_or_hanging_changes_nothing_and_is_bounded(
        endpoint, fail, webhook_receiver, tmp_path):
    if endpoint == "hanging":
        webhook_receiver.hang(60)
        target = webhook_receiver.url()
    else:
        target = webhook_receiver.closed_url()
    res, elapsed = _notify_run(tmp_path, target, fail)
    assert res.code == (1 if fail else 0), res.text
    data = res.json()
    assert data["status"] == ("failed" if fail else "succeeded")
    assert any("notification not delivered" in w for w in data["warnings"]), data["warnings"]
    assert elapsed - data["duration_s"] < NOTIFY_BUDGET_S + 8, f"notification took {elapsed:.1f} s in all"
    assert "/services/" not in res.text, "the webhook URL (a secret) leaked into the output"
    if endpoint == "hanging":
        assert webhook_receiver.requests, "the hanging endpoint was never contacted"


def test_notification_endpoint_flapping_is_retried_and_delivered(webhook_receiver, tmp_path):
    webhook_receiver.fail_next(2, 503)
    res, _ = _notify_run(tmp_path, webhook_receiver.url())
    assert res.code == 0, res.text
    assert res.json()["warnings"] == []
    assert [r.status for r in webhook_receiver.requests] == [503, 503, 200]
