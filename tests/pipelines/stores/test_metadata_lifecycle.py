"""MetadataStore contract: a task's start and successful end, each one atomic transaction."""

from __future__ import annotations

import pytest

from conveyor.stores.metadata import CacheEntry, MetadataStoreError

D1 = "sha256:" + "a" * 64
D2 = "sha256:" + "b" * 64


def _outputs(digest: str = D1) -> dict:
    return {"parameters": {"Output": 0.9},
            "artifacts": {"model": {"uri": "file:///cas/m", "digest": digest, "size": 10, "type": "Model",
                                    "metadata": {"framework": "sklearn"}},
                          "metrics": {"uri": "file:///cas/x", "digest": D2, "size": 2, "type": "Metrics",
                                      "metadata": {"accuracy": 0.9}}}}


@pytest.fixture
def started(metadata_store):
    metadata_store.create_run("r1", "p", "d", "{}", now=1.0)
    metadata_store.record_artifact("file:///cas/in", D2, 5, "r0", "prep", "data", "Dataset", {}, now=1.0)
    attempt = metadata_store.begin_attempt("r1", "train", "train", 1, "key-1", now=2.0)
    assert metadata_store.cache_claim("key-1", "r1/train", 60, now=2.0)
    return metadata_store, attempt


def test_begin_attempt_creates_running_task_and_attempt(started):
    store, attempt = started
    task = store.get_task("r1", "train")
    assert (task.status, task.task_name, task.cache_key, task.started_at, task.attempts) == (
        "running", "train", "key-1", 2.0, 1)
    [rec] = store.list_attempts("r1", "train")
    assert (rec.id, rec.number, rec.status) == (attempt, 1, "running")


def test_complete_success_records_everything_and_releases_the_lease(started):
    store, attempt = started
    entry = CacheEntry(key="key-1", outputs=_outputs(), created_at=5.0, duration_s=3.0, source_run_id="r1",
                       source_task_id="train")
    store.complete_success("r1", "train", attempt, outputs=_outputs(), input_uris=["file:///cas/in"],
                           metrics={"accuracy": 0.9}, task_fields={"duration_s": 3.0, "cost_usd": 0.5},
                           peak_rss_mb=100.0, cpu_time_s=2.5, cache_entry=entry, release=("key-1", "r1/train"),
                           now=5.0)
    task = store.get_task("r1", "train")
    assert (task.status, task.outputs, task.duration_s, task.cost_usd, task.ended_at) == (
        "succeeded", _outputs(), 3.0, 0.5, 5.0)
    [rec] = store.list_attempts("r1", "train")
    assert (rec.status, rec.peak_rss_mb, rec.cpu_time_s, rec.ended_at) == ("succeeded", 100.0, 2.5, 5.0)
    assert {a.output_name for a in store.find_artifacts(run_id="r1")} == {"model", "metrics"}
    assert {(r.task_id, r.direction) for r in store.list_lineage(run_id="r1")} == {("train", "in"), ("train", "out")}
    assert [(m.name, m.value) for m in store.list_metrics("r1")] == [("accuracy", 0.9)]
    assert store.cache_lookup("key-1", now=6.0).outputs == _outputs()
    assert store.get_claim("key-1") is None
    assert store.consistency_report("r1").ok


def test_complete_success_is_all_or_nothing(started):
    store, attempt = started
    with pytest.raises(MetadataStoreError, match="digest"):
        store.complete_success("r1", "train", attempt, outputs=_outputs(digest="md5:nope"), input_uris=[],
                               metrics={"accuracy": 0.9}, task_fields={}, cache_entry=None,
                               release=("key-1", "r1/train"), now=5.0)
    assert store.get_task("r1", "train").status == "running"
    assert store.find_artifacts(run_id="r1") == [] and store.list_metrics("r1") == []
    assert store.list_attempts("r1", "train")[0].status == "running"
    assert store.get_claim("key-1") is not None  # the lease is still held: nothing was committed
