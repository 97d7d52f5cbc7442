"""MetadataStore contract: cache entries, TTL/staleness, pruning and compute claims (SQLite and Postgres)."""

from __future__ import annotations

import threading
import time

import pytest

from conveyor.stores.metadata import CacheEntry, MetadataStoreError
from tests.pipelines.stores.conftest import DIGEST_A

OUTPUTS = {"parameters": {"n": 3}, "artifacts": {"model": {"uri": "s3://b/cas/aa", "digest": DIGEST_A, "size": 9}}}


def entry(key="k", created_at=1000.0, ttl_s=None, **kw):
    return CacheEntry(key=key, outputs=OUTPUTS, created_at=created_at, ttl_s=ttl_s, **kw)


def test_put_then_lookup_round_trips(metadata_store):
    e = entry(duration_s=12.5, cost_usd=0.2, source_run_id="r0", source_task_id="train[1]")
    metadata_store.cache_put(e)
    assert metadata_store.cache_lookup("k", now=1001.0) == e
    assert metadata_store.cache_lookup("missing", now=1001.0) is None


def test_put_replaces_the_entry(metadata_store):
    metadata_store.cache_put(entry(created_at=1.0))
    metadata_store.cache_put(entry(created_at=2.0, duration_s=3.0))
    assert metadata_store.cache_lookup("k", now=3.0).created_at == 2.0


def test_entry_ttl_and_caller_staleness(metadata_store):
    metadata_store.cache_put(entry(ttl_s=60))
    assert metadata_store.cache_lookup("k", now=1059.0) is not None
    assert metadata_store.cache_lookup("k", now=1061.0) is None  # past the component's own TTL
    assert metadata_store.cache_lookup("k", max_staleness_s=30, now=1031.0) is None  # the run's --max-cache-staleness
    assert metadata_store.cache_lookup("k", max_staleness_s=30, now=1029.0) is not None


def test_put_validates_artifact_outputs(metadata_store):
    bad = CacheEntry("k", {"artifacts": {"model": {"uri": "s3://x"}}}, created_at=1.0)
    with pytest.raises(MetadataStoreError, match="artifact output 'model' needs a uri and a digest"):
        metadata_store.cache_put(bad)
    with pytest.raises(MetadataStoreError, match="not JSON-serialisable"):
        metadata_store.cache_put(CacheEntry("k", {"parameters": {"x": {1, 2}}}, created_at=1.0))


def test_invalidate(metadata_store):
    metadata_store.cache_put(entry())
    assert metadata_store.cache_invalidate("k") is True
    assert metadata_store.cache_lookup("k", now=1000.0) is None
    assert metadata_store.cache_invalidate("k") is False


def test_list_and_prune(metadata_store):
    metadata_store.cache_put(entry("old", created_at=100.0))
    metadata_store.cache_put(entry("ttl", created_at=900.0, ttl_s=50))
    metadata_store.cache_put(entry("new", created_at=990.0))
    assert [e.key for e in metadata_store.cache_list(now=1000.0)] == ["new", "ttl", "old"]
    assert [e.key for e in metadata_store.cache_list(limit=1, now=1000.0)] == ["new"]
    assert [e.key for e in metadata_store.cache_list(older_than_s=500, now=1000.0)] == ["old"]
    assert metadata_store.cache_prune(expired=True, now=1000.0) == 1  # "ttl" expired at 950
    assert metadata_store.cache_prune(expired=False, older_than_s=500, now=1000.0) == 1
    assert metadata_store.cache_prune(expired=False, now=1000.0) == 0
    assert metadata_store.cache_prune(all=True, now=1000.0) == 1
    assert metadata_store.cache_list(now=1000.0) == []


def test_claim_is_exclusive_renewable_and_stealable_after_expiry(metadata_store):
    s = metadata_store
    assert s.cache_claim("k", "runner-a", lease_s=10, now=0.0)
    assert not s.cache_claim("k", "runner-b", lease_s=10, now=5.0)
    assert s.cache_claim("k", "runner-a", lease_s=10, now=8.0)  # renewal pushes expiry to 18
    assert not s.cache_claim("k", "runner-b", lease_s=10, now=15.0)
    assert s.cache_claim("k", "runner-b", lease_s=10, now=18.5)  # a's lease ran out: a died
    claim = s.get_claim("k")
    assert (claim.owner, claim.expires_at) == ("runner-b", 28.5)
    assert not s.cache_release("k", "runner-a")
    assert s.cache_release("k", "runner-b")
    assert s.get_claim("k") is None
    with pytest.raises(MetadataStoreError, match="lease_s must be positive"):
        s.cache_claim("k", "x", lease_s=0)


def test_prune_drops_dead_claims(metadata_store):
    metadata_store.cache_claim("k", "dead", lease_s=1, now=0.0)
    metadata_store.cache_prune(expired=True, now=100.0)
    assert metadata_store.get_claim("k") is None


def test_concurrent_claims_have_exactly_one_winner(metadata_url, metadata_store):
    from conveyor.stores.metadata import open_metadata_store

    stores = [open_metadata_store(metadata_url) for _ in range(6)]
    barrier = threading.Barrier(len(stores))
    wins: list[str] = []

    def contend(i: int) -> None:
        barrier.wait()
        if stores[i].cache_claim("shared", f"owner-{i}", lease_s=30):
            wins.append(f"owner-{i}")

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    assert len(wins) == 1
    assert metadata_store.get_claim("shared").owner == wins[0]


def test_cache_wait_returns_the_entry_the_owner_puts(metadata_store):
    assert metadata_store.cache_claim("k", "owner", lease_s=30)

    def finish() -> None:
        time.sleep(0.2)
        metadata_store.cache_put(entry(created_at=time.time()))
        metadata_store.cache_release("k", "owner")

    threading.Thread(target=finish).start()
    started = time.monotonic()
    got = metadata_store.cache_wait("k", timeout_s=10, poll_s=0.02)
    assert got is not None and got.outputs == OUTPUTS
    assert time.monotonic() - started < 5


def test_cache_wait_returns_none_when_the_owner_gives_up_or_time_runs_out(metadata_store):
    assert metadata_store.cache_wait("free", timeout_s=5) is None  # nobody holds it: compute yourself
    metadata_store.cache_claim("k", "owner", lease_s=30)
    started = time.monotonic()
    assert metadata_store.cache_wait("k", timeout_s=0.3, poll_s=0.02) is None
    assert 0.3 <= time.monotonic() - started < 3
    threading.Timer(0.1, metadata_store.cache_release, args=("k", "owner")).start()
    assert metadata_store.cache_wait("k", timeout_s=10, poll_s=0.02) is None
