"""Engines and transactions that survive contention and restarts.

SQLite: WAL (readers never block the writer), a busy timeout, `BEGIN IMMEDIATE` for writes (a
write transaction takes the lock up front instead of failing when it upgrades from read to write,
the classic source of "database is locked"), and a bounded, jittered retry on top for the rest.

Postgres: pool_pre_ping drops dead pooled connections at checkout, and every transaction is retried
on connection loss (server restart, "too many clients", serialization failures) until a deadline.
Our operations are idempotent upserts/updates, so replaying one after an ambiguous commit is safe.
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from conveyor.stores.metadata.api import MetadataStoreError
from conveyor.stores.metadata.urls import scrub

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 30_000
_WRITE = "conveyor_write"
_BUSY_SQLSTATES = {"53300", "57P03"}  # too_many_connections, cannot_connect_now (starting up)
_BUSY_MESSAGES = ("too many connections", "too many clients", "the database system is starting up")
_LOCKED_MESSAGES = ("database is locked", "database table is locked", "database is busy")


def build_engine(url: URL, pool_size: int = 2, max_overflow: int = 8, connect_timeout_s: float = 5.0,
                 busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> Engine:
    if url.get_backend_name() == "sqlite":
        path = url.database
        assert path is not None
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
            pool_size=pool_size,
            max_overflow=max_overflow,
        )
        event.listen(engine, "connect", functools.partial(_sqlite_on_connect, busy_timeout_ms=busy_timeout_ms))
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=1800,
        connect_args={"connect_timeout": max(1, int(connect_timeout_s)), "application_name": "conveyor"},
    )


def _sqlite_on_connect(dbapi_conn, _record, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _sqlite_on_begin)
    cur = dbapi_conn.cursor()
    try:
        cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")  # before WAL: switching may wait
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")  # durable across process crashes in WAL mode
        cur.execute("PRAGMA foreign_keys = ON")
    finally:
        cur.close()


def _sqlite_on_begin(conn: Connection) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


@contextlib.contextmanager
def begin_write(conn: Connection) -> Iterator[Connection]:
    """A write transaction: BEGIN IMMEDIATE on SQLite, a plain BEGIN elsewhere."""
    conn.execution_options(**{_WRITE: True})
    with conn.begin():
        yield conn


def is_retryable(exc: BaseException, backend: str) -> bool:
    if backend == "sqlite":
        return isinstance(exc, OperationalError) and any(m in str(exc.orig).lower() for m in _LOCKED_MESSAGES)
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError | InterfaceError)


def describe(exc: BaseException, url: URL) -> str:
    """The driver's own message, first lines only, with any password scrubbed."""
    orig = getattr(exc, "orig", None) or exc
    lines = [ln.strip() for ln in str(orig).strip().splitlines() if ln.strip()]
    return scrub(" ".join(lines[:3]) or type(orig).__name__, url)


class Transactor:
    """Runs functions in (retried) transactions against one engine; fork-aware."""

    def __init__(self, engine: Engine, url: URL, safe_url: str, retry_deadline_s: float = 60.0):
        self.engine = engine
        self.url = url
        self.safe_url = safe_url
        self.backend = url.get_backend_name()
        self.retry_deadline_s = retry_deadline_s
        self.retries = 0  # how many transactions were replayed (observable in tests)
        self._pid = os.getpid()

    def _check_fork(self) -> None:
        if os.getpid() != self._pid:  # a forked worker must not share the parent's sockets
            self.engine.dispose(close=False)
            self._pid = os.getpid()

    def write(self, fn: Callable[[Connection], T]) -> T:
        return self._run(fn, write=True)

    def read(self, fn: Callable[[Connection], T]) -> T:
        return self._run(fn, write=False)

    def _run(self, fn: Callable[[Connection], T], write: bool) -> T:
        self._check_fork()
        deadline = time.monotonic() + self.retry_deadline_s
        delay = 0.01
        while True:
            try:
                with self.engine.connect() as conn:
                    if write:
                        with begin_write(conn):
                            return fn(conn)
                    with conn.begin():
                        return fn(conn)
            except (OperationalError, InterfaceError, DBAPIError) as exc:
                if not is_retryable(exc, self.backend) or time.monotonic() + delay > deadline:
                    raise MetadataStoreError(
                        f"metadata store {self.safe_url}: {describe(exc, self.url)}"
                    ) from None
                self.retries += 1
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 1.0)

    def ping(self, reach_deadline_s: float = 0.0) -> None:
        """Connect once, failing fast on a bad URL or a dead server (the bad-input catalogue wants a
        quick, clear error), but waiting out the transient refusals of a live server: too many
        clients, or a server still starting up after a restart.

        ``reach_deadline_s`` > 0 also waits out an unreachable server for that long: a task pod on a
        busy node can see a connect time out where a person at a terminal would rather be told."""
        start = time.monotonic()
        deadline = start + max(self.retry_deadline_s, reach_deadline_s)
        delay = 0.05
        while True:
            try:
                with self.engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                return
            except DBAPIError as exc:
                orig = getattr(exc, "orig", None)
                busy = getattr(orig, "sqlstate", None) in _BUSY_SQLSTATES or any(
                    m in str(orig) for m in _BUSY_MESSAGES + _LOCKED_MESSAGES)  # libpq: no sqlstate on connect
                # SQLite: a connection opened while another one migrates a fresh file sees "locked"
                # (WAL setup needs the lock); that is a wait, not a bad URL.
                unreachable = isinstance(exc, OperationalError) and time.monotonic() - start < reach_deadline_s
                if not (busy or unreachable) or time.monotonic() + delay > deadline:
                    raise MetadataStoreError(
                        f"cannot connect to metadata store {self.safe_url}: {describe(exc, self.url)}"
                    ) from None
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 1.0)
