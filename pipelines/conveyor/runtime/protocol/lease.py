"""Compute leases: at most one live owner computes a cache key at a time.

``LEASE_S`` is the one lease length. An owner renews every ``LEASE_S / 3``; an owner that dies
stops renewing and its lease is taken over once expired. Errors are handled by kind:

- a ``MetadataStoreError`` while renewing or releasing (the database briefly unreachable) is
  logged and tolerated: renewal retries on the next tick, and an unreleased lease expires by
  itself within ``LEASE_S``;
- a renewal that returns False means the lease was lost (it expired and someone else took it):
  :class:`LeaseLost` is recorded for the holder to act on;
- anything else is a bug and propagates.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from conveyor.stores.metadata.api import MetadataStore, MetadataStoreError

LEASE_S = 60.0
CACHE_WAIT_S = 3600.0

log = logging.getLogger("conveyor.protocol")


class LeaseLost(RuntimeError):
    """Our compute lease expired and another owner holds the key now."""


class Leases:
    """The leases one process (a local run, or one pod) holds: key -> owner."""

    def __init__(self, store: MetadataStore, lease_s: float = LEASE_S):
        self.store, self.lease_s = store, lease_s
        self.held: dict[str, str] = {}
        self.lost: dict[str, str] = {}
        self.next_renew = time.monotonic() + lease_s / 3

    def claim(self, key: str, owner: str) -> bool:
        """Take the lease; False while another live owner (or a sibling of ours) holds it."""
        if key in self.held or not self.store.cache_claim(key, owner, self.lease_s):
            return False
        self.held[key] = owner
        return True

    def holds(self, key: str) -> bool:
        return key in self.held

    def hand_back(self, key: str | None) -> tuple[str, str] | None:
        """Forget ``key``'s lease and return (key, owner) for the caller to release inside its own
        transaction (``MetadataStore.complete_success(release=...)``); None when not held."""
        owner = self.held.pop(key, None) if key is not None else None
        return (key, owner) if owner is not None else None

    def release(self, key: str | None) -> None:
        held = self.hand_back(key)
        if held is None:
            return
        try:
            self.store.cache_release(*held)
        except MetadataStoreError as exc:
            log.warning("could not release the lease on %s (it expires within %.0f s): %s", held[0][:12],
                        self.lease_s, exc)

    def release_all(self) -> None:
        for key in list(self.held):
            self.release(key)

    def renew(self) -> None:
        """Renew every held lease now; a lost one moves to ``lost``."""
        for key, owner in list(self.held.items()):
            try:
                if not self.store.cache_claim(key, owner, self.lease_s):
                    self.held.pop(key, None)
                    self.lost[key] = owner
                    log.warning("lost the lease on %s: it expired and another owner took it", key[:12])
            except MetadataStoreError as exc:
                log.warning("could not renew the lease on %s (retrying in %.0f s): %s", key[:12],
                            self.lease_s / 3, exc)
        self.next_renew = time.monotonic() + self.lease_s / 3

    def renew_if_due(self, now: float) -> None:
        if now >= self.next_renew:
            self.renew()

    @contextmanager
    def kept_alive(self) -> Iterator[None]:
        """Renew on a background thread while the body computes (the pod runs the task in-process).
        An unexpected renewal error is re-raised when the body ends."""
        stop = threading.Event()
        errors: list[BaseException] = []

        def loop() -> None:
            while not stop.wait(self.lease_s / 3):
                try:
                    self.renew()
                except BaseException as exc:  # noqa: BLE001 - handed to the main thread below
                    errors.append(exc)
                    return

        thread = threading.Thread(target=loop, name="conveyor-lease", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=5)
        if errors:
            raise errors[0]
