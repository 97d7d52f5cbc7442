"""Many runner processes on one store: zero errors, zero "database is locked", zero duplicate computes.

Each worker process plays a small run the way the executor does — tasks, attempts, artifacts,
lineage, metrics — and every task goes through the cache protocol on keys shared by all runs:
lookup → claim → re-lookup → compute → put → release, or wait for the owner's result.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time

import pytest

from conveyor.stores.metadata import CacheEntry, open_metadata_store

TASKS_PER_RUN = 4
SHARED_KEYS = 3


def _digest(i: int) -> str:
    return f"sha256:{i:064x}"


def _cached_or_compute(store, key: str, owner: str, compute_log: str) -> dict:
    while True:
        hit = store.cache_lookup(key)
        if hit is not None:
            return hit.outputs
        if store.cache_claim(key, owner, lease_s=30):
            try:
                hit = store.cache_lookup(key)  # the previous owner may have put it just before releasing
                if hit is not None:
                    return hit.outputs
                with open(compute_log, "a") as log:  # O_APPEND: one short line per compute is atomic
                    log.write(f"{key}\n")
                time.sleep(0.05)  # the "work"
                outputs = {"parameters": {"key": key}, "artifacts": {}}
                store.cache_put(CacheEntry(key, outputs, created_at=time.time(), duration_s=0.05,
                                           source_run_id=owner))
                return outputs
            finally:
                store.cache_release(key, owner)
        store.cache_wait(key, timeout_s=30, poll_s=0.02)


def _play_run(url: str, n: int, compute_log: str, queue) -> None:
    try:
        store = open_metadata_store(url, retry_deadline_s=120)
        run_id = f"run-{n}"
        store.create_run(run_id, "small", "sha256:small", "{}", arguments={"n": n}, status="running")
        for t in range(TASKS_PER_RUN):
            task_id = f"task[{t}]"
            key = f"shared-{t % SHARED_KEYS}"
            store.upsert_task(run_id, task_id, task_name="task", status="running", cache_key=key)
            attempt = store.start_attempt(run_id, task_id, 1, pid=os.getpid())
            outputs = _cached_or_compute(store, key, run_id, compute_log)
            uri = f"file:///cas/{n}/{t}"
            art = store.record_artifact(uri, _digest(n * 100 + t), 10, run_id, task_id, "out")
            store.record_lineage(run_id, task_id, art.id, "out")
            store.record_metric(run_id, task_id, "score", t / 10)
            store.finish_attempt(attempt, "succeeded", cpu_time_s=0.01)
            outputs = {**outputs, "artifacts": {"out": {"uri": uri, "digest": art.digest, "size": 10}}}
            store.upsert_task(run_id, task_id, status="succeeded", outputs=outputs, duration_s=0.05)
        store.set_run_status(run_id, "succeeded")
        store.close()
        queue.put(None)
    except BaseException as exc:
        queue.put(f"run {n}: {type(exc).__name__}: {exc}")


def _run_concurrently(url: str, runs: int, tmp_path) -> list[str]:
    compute_log = str(tmp_path / "computes.log")
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_play_run, args=(url, n, compute_log, queue)) for n in range(runs)]
    for p in procs:
        p.start()
    errors = [e for e in (queue.get(timeout=240) for _ in procs) if e is not None]
    for p in procs:
        p.join(timeout=30)
    assert errors == []
    with open(compute_log) as log:
        return log.read().split()


def _check_all_runs_complete(url: str, runs: int) -> None:
    with open_metadata_store(url) as store:
        assert len(store.list_runs(limit=runs + 10, status="succeeded")) == runs
        for n in range(runs):
            report = store.consistency_report(f"run-{n}")
            assert report.ok, report.problems
            assert len(store.list_metrics(f"run-{n}")) == TASKS_PER_RUN


def test_50_concurrent_runs_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'metadata.db'}"
    open_metadata_store(url).close()  # the schema exists; the race on creating it is tested elsewhere
    computes = _run_concurrently(url, 50, tmp_path)
    assert sorted(computes) == sorted(f"shared-{k}" for k in range(SHARED_KEYS))  # each key exactly once
    _check_all_runs_complete(url, 50)


@pytest.mark.services
def test_concurrent_runs_on_postgres(fresh_postgres_db, tmp_path):
    computes = _run_concurrently(fresh_postgres_db, 30, tmp_path)
    assert sorted(computes) == sorted(f"shared-{k}" for k in range(SHARED_KEYS))
    _check_all_runs_complete(fresh_postgres_db, 30)


@pytest.mark.services
def test_postgres_restart_mid_run_reconnects_and_loses_nothing(postgres_server, fresh_postgres_db):
    store = open_metadata_store(fresh_postgres_db, retry_deadline_s=60)
    store.create_run("r", "p", "d", "{}", status="running")
    errors: list[str] = []
    written: list[str] = []
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set() or i < 40:
            try:
                store.upsert_task("r", f"t{i}", task_name="t", status="succeeded", outputs={})
                written.append(f"t{i}")
            except Exception as exc:
                errors.append(str(exc))
                return
            i += 1
            time.sleep(0.01)

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(0.2)
    postgres_server.restart()  # every open connection breaks; the data stays
    time.sleep(0.2)
    stop.set()
    thread.join(timeout=90)
    assert errors == []
    assert store.retries > 0  # the restart was really felt, and absorbed
    assert [t.task_id for t in store.list_tasks("r")] == written
    store.set_run_status("r", "succeeded")
    store.close()


def _hold_write_lock(db_path: str, seconds: float, locked: threading.Event) -> None:
    import sqlite3

    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    locked.set()
    time.sleep(seconds)
    conn.execute("ROLLBACK")
    conn.close()


def test_sqlite_lock_contention_is_retried_then_succeeds(tmp_path):
    db = tmp_path / "metadata.db"
    store = open_metadata_store(f"sqlite:///{db}", busy_timeout_ms=20, retry_deadline_s=30)
    store.create_run("r", "p", "d", "{}")
    locked = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(str(db), 0.5, locked))
    holder.start()
    locked.wait(5)
    store.set_run_status("r", "running")  # waits out the other writer instead of failing
    holder.join()
    assert store.retries > 0 and store.get_run("r").status == "running"
    store.close()


def test_sqlite_lock_held_past_the_deadline_is_a_clear_bounded_error(tmp_path):
    from conveyor.stores.metadata import MetadataStoreError

    db = tmp_path / "metadata.db"
    store = open_metadata_store(f"sqlite:///{db}", busy_timeout_ms=20, retry_deadline_s=0.3)
    store.create_run("r", "p", "d", "{}")
    locked = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(str(db), 1.0, locked))
    holder.start()
    locked.wait(5)
    started = time.monotonic()
    with pytest.raises(MetadataStoreError, match=f"metadata store sqlite.*{db.name}: database is locked"):
        store.set_run_status("r", "running")
    assert time.monotonic() - started < 1.5
    holder.join()
    store.close()


def _backend_pid(store) -> int:
    from sqlalchemy import text

    return store._tx.read(lambda c: c.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _use_inherited_store(store, queue, report_backend: bool) -> None:
    try:
        store.upsert_task("r", "child", task_name="child", status="succeeded", outputs={})
        queue.put(_backend_pid(store) if report_backend else None)
    except BaseException as exc:
        queue.put(f"{type(exc).__name__}: {exc}")


def test_a_store_survives_fork_in_parent_and_child(metadata_store):
    """Warm workers are forked from a runner that already has pooled connections open: the child must
    open its own connections, never talk over the parent's socket."""
    postgres = metadata_store.backend == "postgresql"
    metadata_store.create_run("r", "p", "d", "{}")
    metadata_store.upsert_task("r", "parent", task_name="parent", status="running")
    parent_backend = _backend_pid(metadata_store) if postgres else None
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_use_inherited_store, args=(metadata_store, queue, postgres))
    child.start()
    reported = queue.get(timeout=60)
    child.join(timeout=30)
    assert not isinstance(reported, str), reported
    if postgres:
        assert reported != parent_backend
    metadata_store.upsert_task("r", "parent", status="succeeded", outputs={})  # the parent's pool still works
    assert {t.task_id: t.status for t in metadata_store.list_tasks("r")} == {
        "parent": "succeeded", "child": "succeeded"}
    if postgres:
        assert _backend_pid(metadata_store) == parent_backend  # and it kept its own connection
