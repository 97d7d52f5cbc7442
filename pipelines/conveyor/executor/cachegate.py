"""The cache in front of the scheduler: verified lookups and compute leases.

A hit counts only if every output artifact still exists with its recorded digest (a deleted
artifact is never a hit). A miss takes the key's compute lease before running, so two runs (or two
iterations of one run) that reach the same key compute it once: the loser waits, on a thread that
posts to the scheduler's queue, and then reuses the winner's entry.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass

from conveyor.stores.artifacts.api import ArtifactStore
from conveyor.stores.metadata.api import CacheEntry, MetadataStore

LEASE_S = 60.0
CACHE_WAIT_S = 3600.0


@dataclass(frozen=True)
class CacheWaitDone:
    id: str
    entry: CacheEntry | None


class CacheGate:
    def __init__(self, store: MetadataStore, artifacts: ArtifactStore, run_id: str, events: queue.Queue,
                 max_staleness_s: float | None):
        self.store, self.artifacts, self.run_id, self.events = store, artifacts, run_id, events
        self.max_staleness_s = max_staleness_s
        self.leases: dict[str, str] = {}  # cache key -> instance id holding its lease
        self.next_renew = time.monotonic() + LEASE_S / 3

    def owner(self, iid: str) -> str:
        return f"{self.run_id}/{iid}"

    def verified(self, key: str, entry: CacheEntry | None = None) -> CacheEntry | None:
        """The entry for `key` if it exists, is fresh and its artifacts are intact; else None."""
        entry = entry or self.store.cache_lookup(key, self.max_staleness_s)
        if entry is None:
            return None
        arts = entry.outputs.get("artifacts", {})
        if not all(self.artifacts.verify(a["uri"], a["digest"]) for a in arts.values()):
            self.store.cache_invalidate(key)  # a deleted or altered artifact is never a hit
            return None
        return entry

    def claim(self, key: str, iid: str) -> bool:
        """Take the compute lease; False (and a background wait is started) while someone else has it."""
        if key in self.leases or not self.store.cache_claim(key, self.owner(iid), LEASE_S):
            threading.Thread(target=self._wait, args=(iid, key), daemon=True).start()
            return False
        self.leases[key] = iid
        return True

    def _wait(self, iid: str, key: str) -> None:
        entry = None
        try:
            if key in self.leases:  # a sibling instance of this very run computes it
                while key in self.leases and (entry := self.store.cache_lookup(key)) is None:
                    time.sleep(0.05)
                entry = entry or self.store.cache_lookup(key)
            else:
                entry = self.store.cache_wait(key, CACHE_WAIT_S, self.max_staleness_s)
        finally:
            self.events.put(CacheWaitDone(iid, entry))

    def hand_back(self, key: str | None) -> tuple[str, str] | None:
        """Forget the lease on `key`; returns (key, owner) for the caller to release in its own
        transaction, or None when this run did not hold it."""
        iid = self.leases.pop(key, None) if key is not None else None
        return (key, self.owner(iid)) if iid is not None else None

    def release(self, key: str | None) -> None:
        held = self.hand_back(key)
        if held is not None:
            self.store.cache_release(*held)

    def release_all(self) -> None:
        for key in list(self.leases):
            self.release(key)

    def renew_if_due(self, now: float) -> None:
        if now >= self.next_renew:
            for key, iid in self.leases.items():
                self.store.cache_claim(key, self.owner(iid), LEASE_S)
            self.next_renew = now + LEASE_S / 3
