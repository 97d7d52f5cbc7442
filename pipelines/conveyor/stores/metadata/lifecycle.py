"""A task's start and its successful end, each as ONE transaction.

Why: a task used to cost seven or eight small transactions (task row, attempt, artifacts,
lineage, metrics, attempt end, cache entry, task row, lease). Each commit is a WAL sync on SQLite
and a round trip on Postgres; folding them makes per-task overhead smaller, and it makes the end
of a task atomic: a crash leaves either everything a success records, or nothing of it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from conveyor.stores.metadata import cache, records, runs
from conveyor.stores.metadata.api import CacheEntry


def begin_attempt(conn: Connection, run_id: str, task_id: str, task_name: str, number: int,
                  cache_key: str | None, pid: int | None, now: float) -> int:
    runs.write_task(conn, run_id, task_id, {"task_name": task_name, "status": "running", "cache_key": cache_key,
                                            "started_at": now, "error": None}, now)
    return runs.insert_attempt(conn, run_id, task_id, number, pid, now)


def complete_success(conn: Connection, run_id: str, task_id: str, attempt_id: int, *, outputs: dict[str, Any],
                     input_uris: list[str], metrics: dict[str, float], task_fields: dict[str, Any],
                     peak_rss_mb: float | None, cpu_time_s: float | None, cache_entry: CacheEntry | None,
                     release: tuple[str, str] | None, now: float) -> None:
    for name, art in (outputs.get("artifacts") or {}).items():
        records.record_artifact(conn, art["uri"], art["digest"], art["size"], run_id, task_id, name,
                                art.get("type"), art.get("metadata") or {}, now)
        records.record_lineage(conn, run_id, task_id, art["uri"], "out", now)
    for uri in input_uris:
        records.record_lineage(conn, run_id, task_id, uri, "in", now)
    for name, value in metrics.items():
        records.record_metric(conn, run_id, task_id, name, value, now)
    runs.finish_attempt(conn, attempt_id, "succeeded", None, None, None, peak_rss_mb, cpu_time_s, now)
    if cache_entry is not None:
        cache.put(conn, cache_entry)
    runs.write_task(conn, run_id, task_id, {**task_fields, "status": "succeeded", "outputs": outputs,
                                            "ended_at": now, "error": None}, now)
    if release is not None:
        cache.release(conn, *release)
