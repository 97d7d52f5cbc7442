"""The metadata store: runs, tasks, attempts, artifacts, lineage, metrics and the cache.

`open_metadata_store()` gives the local default (SQLite in WAL mode at $CONVEYOR_HOME/metadata.db);
any postgresql:// URL gives the same store on Postgres.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from conveyor.stores.metadata.api import (
    COMPLETED_TASK_STATUSES,
    FAILURE_CLASSES,
    RUN_STATUSES,
    TASK_STATUSES,
    TERMINAL_RUN_STATUSES,
    UNSET,
    ArtifactRecord,
    AttemptRecord,
    CacheClaim,
    CacheEntry,
    ConsistencyReport,
    LineageRecord,
    MetadataStore,
    MetadataStoreError,
    MetricRecord,
    NotFoundError,
    RunRecord,
    ScheduleRecord,
    TaskRecord,
)
from conveyor.stores.metadata.urls import default_metadata_url, normalize_url, redact_url


def open_metadata_store(url: str | None = None, *, clock: Callable[[], float] = time.time,
                        retry_deadline_s: float = 60.0, pool_size: int = 2, max_overflow: int = 8,
                        busy_timeout_ms: int = 30_000, reach_deadline_s: float = 0.0) -> MetadataStore:
    """Open (creating and migrating if needed) the store at `url`, default `default_metadata_url()`.

    Raises MetadataStoreError naming the redacted URL and the cause when the URL is malformed,
    unsupported or unreachable. `retry_deadline_s` bounds how long one operation keeps retrying
    through lock contention or a database restart; `busy_timeout_ms` is SQLite's own wait for the
    write lock before that retry loop sees "database is locked". `reach_deadline_s` is how long
    opening waits for a server that does not answer (0: fail at once, as the CLI wants).
    """
    from conveyor.stores.metadata.sql import SqlMetadataStore  # keeps `import api` light

    raw = url or default_metadata_url()
    return SqlMetadataStore(normalize_url(raw), clock=clock, retry_deadline_s=retry_deadline_s,
                            pool_size=pool_size, max_overflow=max_overflow, busy_timeout_ms=busy_timeout_ms,
                            reach_deadline_s=reach_deadline_s)


__all__ = [
    "COMPLETED_TASK_STATUSES", "FAILURE_CLASSES", "RUN_STATUSES", "TASK_STATUSES", "TERMINAL_RUN_STATUSES", "UNSET",
    "ArtifactRecord", "AttemptRecord", "CacheClaim", "CacheEntry", "ConsistencyReport", "LineageRecord",
    "MetadataStore", "MetadataStoreError", "MetricRecord", "NotFoundError", "RunRecord", "ScheduleRecord", "TaskRecord",
    "default_metadata_url", "open_metadata_store", "redact_url",
]
