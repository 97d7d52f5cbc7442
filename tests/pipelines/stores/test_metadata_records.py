"""MetadataStore contract: artifacts, lineage, metrics and the consistency report (SQLite and Postgres)."""

from __future__ import annotations

import pytest

from conveyor.stores.metadata import MetadataStoreError, NotFoundError
from tests.pipelines.stores.conftest import DIGEST_A, DIGEST_B


def test_record_artifact_round_trip_and_idempotent_per_output(run_with_task):
    store = run_with_task
    a = store.record_artifact("file:///cas/aa", DIGEST_A, 2**40, "r1", "t", "model", "Model", {"framework": "sk"})
    assert (a.uri, a.digest, a.size, a.type_name, a.metadata) == ("file:///cas/aa", DIGEST_A, 2**40, "Model",
                                                                   {"framework": "sk"})
    again = store.record_artifact("file:///cas/bb", DIGEST_B, 3, "r1", "t", "model", "Model")
    assert again.id == a.id and again.digest == DIGEST_B  # a retry re-records the same output
    other = store.record_artifact("file:///cas/aa", DIGEST_A, 5, "r1", "t", "data")
    assert other.id != a.id
    assert [x.output_name for x in store.find_artifacts(digest=DIGEST_A)] == ["data"]
    assert len(store.find_artifacts(run_id="r1")) == 2
    assert store.find_artifacts(uri="file:///cas/bb")[0].id == a.id


@pytest.mark.parametrize(("digest", "size", "match"), [
    ("md5:abc", 1, "not of the form sha256:<64 lowercase hex>"),
    ("sha256:" + "A" * 64, 1, "not of the form"),
    (DIGEST_A, -1, "size -1 is negative"),
])
def test_record_artifact_rejects_bad_values(metadata_store, digest, size, match):
    with pytest.raises(MetadataStoreError, match=match):
        metadata_store.record_artifact("file:///x", digest, size)


def test_lineage_by_id_and_by_uri_is_idempotent(run_with_task):
    store = run_with_task
    store.upsert_task("r1", "consumer", task_name="c", status="running")
    art = store.record_artifact("file:///cas/aa", DIGEST_A, 1, "r1", "t", "out")
    store.record_lineage("r1", "t", art.id, "out", now=1.0)
    store.record_lineage("r1", "consumer", "file:///cas/aa", "in", now=2.0)
    store.record_lineage("r1", "consumer", art.id, "in", now=3.0)
    edges = store.list_lineage(run_id="r1")
    assert [(e.task_id, e.direction, e.artifact_id) for e in edges] == [("t", "out", art.id), ("consumer", "in", art.id)]
    assert len(store.list_lineage(artifact_id=art.id)) == 2


def test_lineage_errors(run_with_task):
    with pytest.raises(NotFoundError, match="no artifact with uri 'file:///missing'"):
        run_with_task.record_lineage("r1", "t", "file:///missing", "in")
    with pytest.raises(NotFoundError, match="artifact 424242 does not exist"):
        run_with_task.record_lineage("r1", "t", 424242, "in")
    with pytest.raises(MetadataStoreError, match="lineage direction 'up'"):
        run_with_task.record_lineage("r1", "t", 1, "up")


def test_metrics_last_write_wins(run_with_task):
    store = run_with_task
    store.record_metric("r1", "t", "accuracy", 0.5)
    store.record_metric("r1", "t", "accuracy", 0.9)
    store.record_metric("r1", "t", "loss", 1)
    assert [(m.name, m.value) for m in store.list_metrics("r1")] == [("accuracy", 0.9), ("loss", 1.0)]
    assert store.list_metrics("r1", task_id="other") == []


@pytest.mark.parametrize(("value", "match"), [("high", "is not a number"), (float("nan"), "is not finite")])
def test_metric_value_must_be_a_finite_number(run_with_task, value, match):
    with pytest.raises(MetadataStoreError, match=match):
        run_with_task.record_metric("r1", "t", "accuracy", value)


def _complete(store, task_id="t", digest=DIGEST_A, record=True, attempt=True):
    uri = f"file:///cas/{task_id}"
    store.upsert_task("r1", task_id, task_name=task_id, status="running")
    if record:
        store.record_artifact(uri, digest, 1, "r1", task_id, "model")
    if attempt:
        store.finish_attempt(store.start_attempt("r1", task_id, 1), "succeeded")
    store.upsert_task("r1", task_id, task_name=task_id, status="succeeded",
                      outputs={"parameters": {"n": 1}, "artifacts": {"model": {"uri": uri, "digest": digest}}})


def test_consistency_report_ok_for_a_clean_run(run_with_task):
    _complete(run_with_task)
    run_with_task.upsert_task("r1", "c", task_name="c", status="cached", cached_from_run="r0",
                              outputs={"parameters": {}, "artifacts": {}})
    run_with_task.set_run_status("r1", "succeeded")
    report = run_with_task.consistency_report("r1")
    assert report.ok, report.problems


def test_consistency_report_names_every_problem(run_with_task):
    store = run_with_task
    _complete(store, "unrecorded", record=False)
    _complete(store, "no-attempt", attempt=False)
    store.upsert_task("r1", "no-outputs", task_name="x", status="succeeded")
    store.finish_attempt(store.start_attempt("r1", "no-outputs", 1), "succeeded")
    store.upsert_task("r1", "cached", task_name="x", status="cached", outputs={})
    store.start_attempt("r1", "t", 1)  # left running by a killed runner
    store.set_run_status("r1", "failed")
    problems = "\n".join(store.consistency_report("r1").problems)
    assert "artifact output 'model' (file:///cas/unrecorded" in problems
    assert "task 'no-attempt' is succeeded but has no succeeded attempt" in problems
    assert "task 'no-outputs' completed without recorded outputs" in problems
    assert "task 'cached' is cached but names no source run" in problems
    assert "task 't' is still running although the run is failed" in problems
    assert "attempt 1 of task 't' is still running" in problems
    store.mark_stale_attempts("r1")
    assert "attempt 1 of task 't'" not in "\n".join(store.consistency_report("r1").problems)
