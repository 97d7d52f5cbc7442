"""Row ↔ record conversion and the one cross-dialect upsert, shared by the operation modules."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from conveyor.stores.metadata.api import (
    ArtifactRecord,
    AttemptRecord,
    CacheClaim,
    CacheEntry,
    LineageRecord,
    MetadataStoreError,
    MetricRecord,
    RunRecord,
    TaskRecord,
)


def dumps(value: Any, what: str) -> str:
    try:
        return json.dumps(value, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise MetadataStoreError(f"{what} is not JSON-serialisable: {exc}") from None


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def insert(conn: Connection, table: Table):
    """`INSERT` with `.on_conflict_do_*` for the connection's dialect (SQLite and Postgres share the API)."""
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


def run_record(row: Row, cost_usd: float | None) -> RunRecord:
    return RunRecord(
        run_id=row.run_id, pipeline_name=row.pipeline_name, pipeline_digest=row.pipeline_digest,
        spec_json=row.spec_json, arguments=loads(row.arguments_json), profile_name=row.profile_name,
        labels=loads(row.labels_json), status=row.status, error=row.error, outputs=loads(row.outputs_json),
        created_at=row.created_at, started_at=row.started_at, ended_at=row.ended_at,
        cost_usd=float(cost_usd or 0.0),
    )


def task_record(row: Row, attempts: int) -> TaskRecord:
    return TaskRecord(
        run_id=row.run_id, task_id=row.task_id, task_name=row.task_name, status=row.status,
        cache_key=row.cache_key, outputs=loads(row.outputs_json), cached_from_run=row.cached_from_run,
        cached_from_task=row.cached_from_task, error=row.error, started_at=row.started_at,
        ended_at=row.ended_at, duration_s=row.duration_s, peak_rss_mb=row.peak_rss_mb,
        cpu_time_s=row.cpu_time_s, cost_usd=row.cost_usd, saved_s=row.saved_s, attempts=int(attempts or 0),
        updated_at=row.updated_at,
    )


def attempt_record(row: Row) -> AttemptRecord:
    return AttemptRecord(
        id=row.id, run_id=row.run_id, task_id=row.task_id, number=row.number, pid=row.pid,
        status=row.status, failure_class=row.failure_class, error=row.error, exit_code=row.exit_code,
        started_at=row.started_at, ended_at=row.ended_at, peak_rss_mb=row.peak_rss_mb,
        cpu_time_s=row.cpu_time_s,
    )


def artifact_record(row: Row) -> ArtifactRecord:
    return ArtifactRecord(
        id=row.id, uri=row.uri, digest=row.digest, size=int(row.size), producer_run_id=row.producer_run_id,
        producer_task_id=row.producer_task_id, output_name=row.output_name, type_name=row.type_name,
        metadata=loads(row.metadata_json), created_at=row.created_at,
    )


def lineage_record(row: Row) -> LineageRecord:
    return LineageRecord(run_id=row.run_id, task_id=row.task_id, artifact_id=row.artifact_id,
                         direction=row.direction, created_at=row.created_at)


def metric_record(row: Row) -> MetricRecord:
    return MetricRecord(run_id=row.run_id, task_id=row.task_id, name=row.name, value=row.value,
                        created_at=row.created_at)


def cache_entry(row: Row) -> CacheEntry:
    return CacheEntry(
        key=row.key, outputs=loads(row.outputs_json), created_at=row.created_at, duration_s=row.duration_s,
        cost_usd=row.cost_usd, source_run_id=row.source_run_id, source_task_id=row.source_task_id,
        ttl_s=row.ttl_s,
    )


def cache_claim(row: Row) -> CacheClaim:
    return CacheClaim(key=row.key, owner=row.owner, claimed_at=row.claimed_at, expires_at=row.expires_at)
