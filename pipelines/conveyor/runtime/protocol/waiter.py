"""One waiter for every task waiting on another owner's lease.

A task whose key is being computed elsewhere (another run, another pod, a sibling instance of
this run) waits until the entry appears, or the lease is released or expires without one (the
owner failed or died: the task then claims it itself). Instead of one thread per waiting task,
each polling the store every 50 ms, one thread polls all waited keys in a round, backing off
while nothing changes; :meth:`CacheWaiter.poke` wakes it at once when this process itself
recorded or released a key (the sibling case needs no polling delay at all).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from conveyor.runtime.protocol.lease import CACHE_WAIT_S
from conveyor.stores.metadata.api import CacheEntry, MetadataStore, MetadataStoreError

POLL_MIN_S = 0.02
POLL_MAX_S = 0.5

Done = Callable[[str, CacheEntry | None], None]  # (token, entry or None)


@dataclass
class _Wait:
    token: str
    key: str
    deadline: float
    max_staleness_s: float | None
    done: Done


class CacheWaiter:
    """``wait(token, key, done)`` calls ``done(token, entry_or_None)`` from the waiter thread."""

    def __init__(self, store: MetadataStore, timeout_s: float = CACHE_WAIT_S):
        self.store, self.timeout_s = store, timeout_s
        self._waits: list[_Wait] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._poked = False
        self.errors: list[BaseException] = []

    def wait(self, token: str, key: str, done: Done, max_staleness_s: float | None = None) -> None:
        with self._cond:
            self._waits.append(_Wait(token, key, time.monotonic() + self.timeout_s, max_staleness_s, done))
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="conveyor-cache-waiter", daemon=True)
                self._thread.start()
            self._poked = True
            self._cond.notify()

    def wait_blocking(self, key: str, max_staleness_s: float | None = None) -> CacheEntry | None:
        """For a single task (the pod): block until the key is settled; None on release or timeout."""
        got: list[CacheEntry | None] = []
        event = threading.Event()

        def done(token: str, entry: CacheEntry | None) -> None:
            got.append(entry)
            event.set()

        self.wait(key, key, done, max_staleness_s)
        while not event.wait(0.5):
            if self.errors:
                raise self.errors[0]
        return got[0]

    def poke(self) -> None:
        with self._cond:
            self._poked = True
            self._cond.notify()

    def pending(self) -> int:
        with self._cond:
            return len(self._waits)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _settled(self, wait: _Wait) -> tuple[bool, CacheEntry | None]:
        entry = self.store.cache_lookup(wait.key, wait.max_staleness_s)
        if entry is not None:
            return True, entry
        held = self.store.get_claim(wait.key)
        if held is None or held.expires_at < time.time():
            return True, self.store.cache_lookup(wait.key, wait.max_staleness_s)  # unless it landed just now
        return time.monotonic() >= wait.deadline, None

    def _loop(self) -> None:
        delay = POLL_MIN_S
        while True:
            with self._cond:
                if not self._poked:
                    self._cond.wait(delay)
                if self._closed:
                    return
                self._poked = False
                waits = list(self._waits)
            finished: list[tuple[_Wait, CacheEntry | None]] = []
            try:
                for wait in waits:
                    settled, entry = self._settled(wait)
                    if settled:
                        finished.append((wait, entry))
            except MetadataStoreError:  # unreachable for a moment: each owner re-decides and sees it itself
                finished = [(w, None) for w in waits]
            except BaseException as exc:  # noqa: BLE001 - a bug: recorded, the owners re-raise it
                self.errors.append(exc)
                finished = [(w, None) for w in waits]
            with self._cond:
                for wait, _ in finished:
                    self._waits.remove(wait)
            for wait, entry in finished:
                wait.done(wait.token, entry)
            delay = POLL_MIN_S if finished else min(POLL_MAX_S, delay * 1.5)
            if self.errors:
                with self._cond:
                    self._thread = None
                return
