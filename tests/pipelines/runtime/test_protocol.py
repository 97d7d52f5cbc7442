"""conveyor.runtime.protocol on its own: one binder, the gate never computes without the lease,
lease errors handled by kind, one waiter for every waiting task (real SQLite store and CAS)."""

from __future__ import annotations

import threading
import time

import pytest

from conveyor.ir.errors import PipelineDefinitionError
from conveyor.launcher.submit import bind
from conveyor.runtime.protocol.binding import bind_arguments
from conveyor.runtime.protocol.gate import CacheGate, CacheWaitTimeout, Claimed, Hit, Wait
from conveyor.runtime.protocol.lease import Leases
from conveyor.runtime.protocol.waiter import CacheWaiter
from conveyor.stores.artifacts import open_artifact_store
from conveyor.stores.metadata import CacheEntry, MetadataStoreError, open_metadata_store
from tests.pipelines.runtime import pod_pipelines as pp


@pytest.fixture
def stores(tmp_path):
    store = open_metadata_store(f"sqlite:///{tmp_path / 'm.db'}")
    yield store, open_artifact_store(str(tmp_path / "cas"))
    store.close()


def test_submit_binds_like_a_local_run():
    spec = pp.train_pipeline.pipeline_spec
    assert bind(spec, {"lr": 1}) == bind_arguments(spec, {"lr": 1}) == {"rows": 10, "lr": 1.0}
    assert isinstance(bind(spec, {"lr": 1})["lr"], float)
    with pytest.raises(PipelineDefinitionError, match="expected float"):
        bind(spec, {"lr": "abc"})


def test_a_failed_claim_waits_and_never_computes(stores):
    store, artifacts = stores
    assert store.cache_claim("k" * 64, "someone-else", 60.0)
    gate = CacheGate(store, artifacts)
    try:
        assert isinstance(gate.decide("k" * 64, "me"), Wait)
        with pytest.raises(CacheWaitTimeout):
            gate.acquire("k" * 64, "me", timeout_s=0.0)
        assert not gate.leases.holds("k" * 64)
    finally:
        gate.close()


def test_wait_ends_with_the_owners_entry_then_hits(stores, tmp_path):
    store, artifacts = stores
    key = "a" * 64
    assert store.cache_claim(key, "owner", 60.0)
    gate = CacheGate(store, artifacts)

    def finish() -> None:
        time.sleep(0.3)
        store.cache_put(CacheEntry(key=key, outputs={"parameters": {"x": 1}, "artifacts": {}}, created_at=time.time(),
                                   duration_s=1.0, cost_usd=None, source_run_id="r", source_task_id="t"))
        store.cache_release(key, "owner")

    threading.Thread(target=finish).start()
    try:
        decision = gate.acquire(key, "me", timeout_s=30)
        assert isinstance(decision, Hit) and decision.entry.outputs["parameters"] == {"x": 1}
        assert isinstance(gate.decide("b" * 64, "me"), Claimed)
    finally:
        gate.close()
    assert store.get_claim("b" * 64) is None  # close gave the lease back


def test_one_waiter_thread_serves_every_waiting_task(stores):
    store, _ = stores
    keys = [f"{i:064d}" for i in range(20)]
    for key in keys:
        assert store.cache_claim(key, "owner", 60.0)
    waiter = CacheWaiter(store)
    done: list[str] = []
    before = threading.active_count()
    for key in keys:
        waiter.wait(key, key, lambda token, entry: done.append(token))
    assert threading.active_count() - before <= 1
    for key in keys:
        store.cache_release(key, "owner")
    waiter.poke()
    deadline = time.monotonic() + 10
    while len(done) < len(keys) and time.monotonic() < deadline:
        time.sleep(0.02)
    waiter.close()
    assert sorted(done) == keys


class _Flaky:
    """A real store whose cache_claim/cache_release raise what we tell them to."""

    def __init__(self, store, exc):
        self.store, self.exc = store, exc

    def __getattr__(self, name):
        return getattr(self.store, name)

    def cache_claim(self, *args, **kwargs):
        if self.exc is not None:
            raise self.exc
        return self.store.cache_claim(*args, **kwargs)

    def cache_release(self, *args, **kwargs):
        if self.exc is not None:
            raise self.exc
        return self.store.cache_release(*args, **kwargs)


def test_lease_errors_are_handled_by_kind(stores, caplog):
    store, _ = stores
    flaky = _Flaky(store, None)
    leases = Leases(flaky)
    assert leases.claim("c" * 64, "me")
    flaky.exc = MetadataStoreError("database unreachable")
    leases.renew()  # tolerated: logged, retried next tick, still held
    assert leases.holds("c" * 64) and "could not renew" in caplog.text
    flaky.exc = RuntimeError("a bug")
    with pytest.raises(RuntimeError, match="a bug"):
        leases.renew()
    with pytest.raises(RuntimeError, match="a bug"):
        leases.release("c" * 64)
    flaky.exc = MetadataStoreError("database unreachable")
    leases.held["e" * 64] = "me"
    leases.release("e" * 64)  # tolerated: the lease expires by itself
    assert "could not release" in caplog.text


def test_a_lost_lease_is_reported(stores):
    store, _ = stores
    leases = Leases(store, lease_s=0.05)
    assert leases.claim("f" * 64, "me")
    time.sleep(0.1)
    assert store.cache_claim("f" * 64, "thief", 60.0)  # ours expired: taken over
    leases.renew()
    assert not leases.holds("f" * 64) and "f" * 64 in leases.lost

