"""SQL for artifacts, lineage and metrics. Each function runs inside a transaction the caller opened."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from conveyor.stores.metadata import rows
from conveyor.stores.metadata.api import (
    DIRECTIONS,
    ArtifactRecord,
    LineageRecord,
    MetadataStoreError,
    MetricRecord,
    NotFoundError,
)
from conveyor.stores.metadata.runs import check_choice, get_task
from conveyor.stores.metadata.schema import artifacts, lineage, metrics


def check_digest(digest: str, what: str) -> None:
    algo, _, hexpart = str(digest).partition(":")
    if algo != "sha256" or len(hexpart) != 64 or any(c not in "0123456789abcdef" for c in hexpart):
        raise MetadataStoreError(f"{what}: digest {digest!r} is not of the form sha256:<64 lowercase hex>")


def record_artifact(conn: Connection, uri: str, digest: str, size: int, producer_run_id: str | None,
                    producer_task_id: str | None, output_name: str | None, type_name: str | None,
                    metadata: dict[str, Any], now: float) -> ArtifactRecord:
    check_digest(digest, f"artifact {uri!r}")
    if size < 0:
        raise MetadataStoreError(f"artifact {uri!r}: size {size} is negative")
    values = {"uri": uri, "digest": digest, "size": int(size), "type_name": type_name,
              "metadata_json": rows.dumps(metadata, f"metadata of artifact {uri!r}"), "created_at": now}
    keyed = producer_run_id is not None and producer_task_id is not None and output_name is not None
    stmt = rows.insert(conn, artifacts).values(
        producer_run_id=producer_run_id, producer_task_id=producer_task_id, output_name=output_name, **values)
    if keyed:  # one row per produced output: re-recording it (resume, retry) updates in place
        stmt = stmt.on_conflict_do_update(
            index_elements=["producer_run_id", "producer_task_id", "output_name"], set_=values)
    artifact_id = conn.execute(stmt.returning(artifacts.c.id)).scalar_one()
    return rows.artifact_record(conn.execute(select(artifacts).where(artifacts.c.id == artifact_id)).one())


def find_artifacts(conn: Connection, uri: str | None, digest: str | None, run_id: str | None) -> list[ArtifactRecord]:
    stmt = select(artifacts)
    if uri is not None:
        stmt = stmt.where(artifacts.c.uri == uri)
    if digest is not None:
        stmt = stmt.where(artifacts.c.digest == digest)
    if run_id is not None:
        stmt = stmt.where(artifacts.c.producer_run_id == run_id)
    return [rows.artifact_record(r) for r in conn.execute(stmt.order_by(artifacts.c.id))]


def record_lineage(conn: Connection, run_id: str, task_id: str, artifact: int | str, direction: str,
                   now: float) -> LineageRecord:
    check_choice(direction, DIRECTIONS, "lineage direction")
    get_task(conn, run_id, task_id)
    if isinstance(artifact, str):
        found = conn.execute(
            select(artifacts.c.id).where(artifacts.c.uri == artifact).order_by(artifacts.c.id.desc()).limit(1)
        ).first()
        if found is None:
            raise NotFoundError(f"no artifact with uri {artifact!r} is recorded (lineage of task {task_id!r})")
        artifact_id = int(found.id)
    else:
        artifact_id = int(artifact)
        if conn.execute(select(artifacts.c.id).where(artifacts.c.id == artifact_id)).first() is None:
            raise NotFoundError(f"artifact {artifact_id} does not exist (lineage of task {task_id!r})")
    conn.execute(
        rows.insert(conn, lineage).values(run_id=run_id, task_id=task_id, artifact_id=artifact_id,
                                          direction=direction, created_at=now)
        .on_conflict_do_nothing(index_elements=["run_id", "task_id", "artifact_id", "direction"])
    )
    row = conn.execute(select(lineage).where(
        lineage.c.run_id == run_id, lineage.c.task_id == task_id, lineage.c.artifact_id == artifact_id,
        lineage.c.direction == direction)).one()
    return rows.lineage_record(row)


def list_lineage(conn: Connection, run_id: str | None, artifact_id: int | None) -> list[LineageRecord]:
    stmt = select(lineage)
    if run_id is not None:
        stmt = stmt.where(lineage.c.run_id == run_id)
    if artifact_id is not None:
        stmt = stmt.where(lineage.c.artifact_id == artifact_id)
    stmt = stmt.order_by(lineage.c.created_at, lineage.c.task_id, lineage.c.artifact_id)
    return [rows.lineage_record(r) for r in conn.execute(stmt)]


def record_metric(conn: Connection, run_id: str, task_id: str, name: str, value: float, now: float) -> None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MetadataStoreError(f"metric {name!r} of task {task_id!r}: value {value!r} is not a number") from None
    if not math.isfinite(number):  # SQLite cannot store NaN; keep both backends identical
        raise MetadataStoreError(f"metric {name!r} of task {task_id!r}: value {value!r} is not finite")
    get_task(conn, run_id, task_id)
    values = {"value": number, "created_at": now}
    conn.execute(
        rows.insert(conn, metrics).values(run_id=run_id, task_id=task_id, name=name, **values)
        .on_conflict_do_update(index_elements=["run_id", "task_id", "name"], set_=values)
    )


def list_metrics(conn: Connection, run_id: str, task_id: str | None) -> list[MetricRecord]:
    stmt = select(metrics).where(metrics.c.run_id == run_id)
    if task_id is not None:
        stmt = stmt.where(metrics.c.task_id == task_id)
    return [rows.metric_record(r) for r in conn.execute(stmt.order_by(metrics.c.task_id, metrics.c.name))]
