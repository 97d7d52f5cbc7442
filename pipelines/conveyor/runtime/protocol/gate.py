"""The cache steps of one task: verify a hit -> claim the lease -> wait, or compute.

:meth:`CacheGate.decide` returns what to do with a key:

- :class:`Hit`: a verified entry; use its outputs, run nothing;
- :class:`Claimed`: this owner holds the lease; compute, then record the success with
  ``leases.hand_back(key)`` as the release, in the same transaction (``record.record_success``);
- :class:`Wait`: someone else holds the lease; wait (``waiter``) and call ``decide`` again with
  the entry the wait returned. A failed claim is never "compute anyway".

After a successful claim the key is looked up once more: the previous owner may have put its
entry and released just before. The local scheduler calls ``decide`` from its event loop, the
pod in a blocking loop (:meth:`CacheGate.acquire`); submit-time resolution only ``lookup``s.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from conveyor.ir.errors import TransientError
from conveyor.runtime.protocol.hits import verified
from conveyor.runtime.protocol.lease import CACHE_WAIT_S, Leases
from conveyor.runtime.protocol.waiter import CacheWaiter
from conveyor.stores.artifacts.api import ArtifactStore
from conveyor.stores.metadata.api import CacheEntry, MetadataStore


@dataclass(frozen=True)
class Hit:
    entry: CacheEntry


@dataclass(frozen=True)
class Claimed:
    key: str


@dataclass(frozen=True)
class Wait:
    key: str


Decision = Hit | Claimed | Wait


class CacheWaitTimeout(TransientError):
    """The lease holder neither finished nor gave up within CACHE_WAIT_S."""


class CacheGate:
    def __init__(self, store: MetadataStore, artifacts: ArtifactStore, max_staleness_s: float | None = None):
        self.store, self.artifacts, self.max_staleness_s = store, artifacts, max_staleness_s
        self.leases = Leases(store)
        self.waiter = CacheWaiter(store)

    def lookup(self, key: str, entry: CacheEntry | None = None) -> CacheEntry | None:
        return verified(self.store, self.artifacts, key, entry, self.max_staleness_s)

    def decide(self, key: str, owner: str, entry: CacheEntry | None = None) -> Decision:
        hit = self.lookup(key, entry)
        if hit is not None:
            return Hit(hit)
        if not self.leases.claim(key, owner):
            return Wait(key)
        hit = self.lookup(key)
        if hit is not None:
            self.leases.release(key)
            return Hit(hit)
        return Claimed(key)

    def acquire(self, key: str, owner: str, timeout_s: float = CACHE_WAIT_S) -> Decision:
        """Block until a hit or our own lease (the pod's path); raises ``CacheWaitTimeout``."""
        deadline = time.monotonic() + timeout_s
        decision = self.decide(key, owner)
        while isinstance(decision, Wait):
            if time.monotonic() >= deadline:
                raise CacheWaitTimeout(f"cache key {key[:12]}: its lease holder neither finished nor gave up "
                                       f"within {timeout_s:.0f} s")
            entry = self.waiter.wait_blocking(key, self.max_staleness_s)
            decision = self.decide(key, owner, entry)
        return decision

    def close(self) -> None:
        self.leases.release_all()
        self.waiter.close()
