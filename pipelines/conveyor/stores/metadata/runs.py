"""SQL for runs, tasks and attempts. Each function runs inside a transaction the caller opened."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from conveyor.stores.metadata import rows, tags
from conveyor.stores.metadata.api import (
    ATTEMPT_STATUSES,
    COMPLETED_TASK_STATUSES,
    FAILURE_CLASSES,
    RUN_ORDERINGS,
    RUN_STATUSES,
    TASK_STATUSES,
    TERMINAL_RUN_STATUSES,
    UNSET,
    AttemptRecord,
    MetadataStoreError,
    NotFoundError,
    RunRecord,
    TaskRecord,
)
from conveyor.stores.metadata.schema import attempts, run_tags, runs, tasks

_JSON_TASK_FIELDS = {"outputs": "outputs_json"}


def check_choice(value: object, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise MetadataStoreError(f"{what} {value!r} is not one of {', '.join(allowed)}")


def cost_sum():
    """The run's cost: the sum of its tasks' costs (the one definition; runs.cost_usd stores it at the end)."""
    return (
        select(func.coalesce(func.sum(tasks.c.cost_usd), 0.0))
        .where(tasks.c.run_id == runs.c.run_id)
        .scalar_subquery()
    )


def _cost_subquery():
    return cost_sum().label("live_cost_usd")


def get_run(conn: Connection, run_id: str) -> RunRecord:
    row = conn.execute(select(runs, _cost_subquery()).where(runs.c.run_id == run_id)).first()
    if row is None:
        raise NotFoundError(f"run {run_id!r} does not exist in the metadata store")
    return rows.run_record(row, row.live_cost_usd)


def create_run(conn: Connection, run_id: str, pipeline_name: str, pipeline_digest: str, spec_json: str,
               arguments: dict[str, Any], profile_name: str, labels: dict[str, str], status: str,
               now: float) -> RunRecord:
    check_choice(status, RUN_STATUSES, "run status")
    stmt = rows.insert(conn, runs).values(
        run_id=run_id, pipeline_name=pipeline_name, pipeline_digest=pipeline_digest, spec_json=spec_json,
        arguments_json=rows.dumps(arguments, f"arguments of run {run_id!r}"), profile_name=profile_name,
        labels_json=rows.dumps(labels, f"labels of run {run_id!r}"), status=status, error=None,
        outputs_json="{}", created_at=now, started_at=now if status == "running" else None, ended_at=None,
    ).on_conflict_do_nothing(index_elements=["run_id"]).returning(runs.c.run_id)
    if conn.execute(stmt).first() is None:  # (INSERT rowcount is not portable; RETURNING is)
        existing = get_run(conn, run_id)
        # Replaying the same create after a lost connection is fine; a different pipeline is not.
        if existing.pipeline_digest != pipeline_digest or existing.pipeline_name != pipeline_name:
            raise MetadataStoreError(
                f"run {run_id!r} already exists (pipeline {existing.pipeline_name!r}); run ids must be unique"
            )
        return existing
    if found := tags.tag_rows(run_id, labels, arguments, now):
        conn.execute(run_tags.insert(), found)
    return get_run(conn, run_id)


def set_run_status(conn: Connection, run_id: str, status: str, error: str | None, now: float) -> RunRecord:
    check_choice(status, RUN_STATUSES, "run status")
    values: dict[str, Any] = {"status": status, "error": error}
    if status == "running":
        values["started_at"] = func.coalesce(runs.c.started_at, now)
        values["ended_at"] = None  # a resumed run is running again
        values["cost_usd"] = None
    elif status in TERMINAL_RUN_STATUSES:
        values["ended_at"] = now
        values["started_at"] = func.coalesce(runs.c.started_at, now)
        values["cost_usd"] = cost_sum()  # stored once, as the explorer's sort key
    if conn.execute(update(runs).where(runs.c.run_id == run_id).values(**values)).rowcount == 0:
        raise NotFoundError(f"run {run_id!r} does not exist in the metadata store")
    return get_run(conn, run_id)


def set_run_outputs(conn: Connection, run_id: str, outputs: dict[str, Any]) -> None:
    stmt = update(runs).where(runs.c.run_id == run_id).values(
        outputs_json=rows.dumps(outputs, f"outputs of run {run_id!r}"))
    if conn.execute(stmt).rowcount == 0:
        raise NotFoundError(f"run {run_id!r} does not exist in the metadata store")


def list_runs(conn: Connection, limit: int, status: str | None, pipeline: str | None,
              order_by: str) -> list[RunRecord]:
    check_choice(order_by, RUN_ORDERINGS, "run ordering")
    cost = _cost_subquery()
    stmt = select(runs, cost)
    if status is not None:
        check_choice(status, RUN_STATUSES, "run status")
        stmt = stmt.where(runs.c.status == status)
    if pipeline is not None:
        stmt = stmt.where(runs.c.pipeline_name == pipeline)
    field = order_by.lstrip("-")
    column = {
        "created_at": runs.c.created_at,
        "cost": cost,
        "duration": runs.c.ended_at - runs.c.started_at,
    }[field]
    ordered = column.desc() if order_by.startswith("-") else column.asc()
    stmt = stmt.order_by(ordered, runs.c.created_at.desc(), runs.c.run_id).limit(limit)
    return [rows.run_record(r, r.live_cost_usd) for r in conn.execute(stmt)]


def _attempt_count():
    return (
        select(func.count(attempts.c.id))
        .where(attempts.c.run_id == tasks.c.run_id, attempts.c.task_id == tasks.c.task_id)
        .scalar_subquery()
        .label("attempt_count")
    )


def get_task(conn: Connection, run_id: str, task_id: str) -> TaskRecord:
    row = conn.execute(
        select(tasks, _attempt_count()).where(tasks.c.run_id == run_id, tasks.c.task_id == task_id)
    ).first()
    if row is None:
        raise NotFoundError(f"task {task_id!r} of run {run_id!r} does not exist in the metadata store")
    return rows.task_record(row, row.attempt_count)


def list_tasks(conn: Connection, run_id: str, statuses: tuple[str, ...] | None = None) -> list[TaskRecord]:
    stmt = select(tasks, _attempt_count()).where(tasks.c.run_id == run_id)
    if statuses is not None:
        stmt = stmt.where(tasks.c.status.in_(statuses))
    stmt = stmt.order_by(tasks.c.created_at, tasks.c.task_id)
    return [rows.task_record(r, r.attempt_count) for r in conn.execute(stmt)]


def completed_tasks(conn: Connection, run_id: str) -> dict[str, TaskRecord]:
    return {t.task_id: t for t in list_tasks(conn, run_id, COMPLETED_TASK_STATUSES)}


def upsert_task(conn: Connection, run_id: str, task_id: str, fields: dict[str, Any], now: float) -> TaskRecord:
    write_task(conn, run_id, task_id, fields, now)
    return get_task(conn, run_id, task_id)


def write_task(conn: Connection, run_id: str, task_id: str, fields: dict[str, Any], now: float) -> None:
    """Create or update the task row without reading it back (the hot path of every task)."""
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if value is UNSET:
            continue
        if name == "status":
            check_choice(value, TASK_STATUSES, f"status of task {task_id!r}")
        if name in _JSON_TASK_FIELDS:
            value = None if value is None else rows.dumps(value, f"{name} of task {task_id!r}")
            name = _JSON_TASK_FIELDS[name]
        values[name] = value
    values["updated_at"] = now
    changed = conn.execute(
        update(tasks).where(tasks.c.run_id == run_id, tasks.c.task_id == task_id).values(**values)
    ).rowcount
    if changed == 0:
        if "task_name" not in values or "status" not in values:
            raise MetadataStoreError(
                f"task {task_id!r} of run {run_id!r} is new: upsert_task needs task_name and status to create it"
            )
        if conn.execute(select(runs.c.run_id).where(runs.c.run_id == run_id)).first() is None:
            raise NotFoundError(f"run {run_id!r} does not exist in the metadata store (task {task_id!r})")
        conn.execute(
            rows.insert(conn, tasks).values(run_id=run_id, task_id=task_id, created_at=now, **values)
            .on_conflict_do_update(index_elements=["run_id", "task_id"], set_=values)
        )


def start_attempt(conn: Connection, run_id: str, task_id: str, number: int, pid: int | None, now: float) -> int:
    get_task(conn, run_id, task_id)  # a clear NotFoundError instead of a foreign-key failure
    return insert_attempt(conn, run_id, task_id, number, pid, now)


def insert_attempt(conn: Connection, run_id: str, task_id: str, number: int, pid: int | None, now: float) -> int:
    values = {"pid": pid, "status": "running", "failure_class": None, "error": None, "exit_code": None,
              "started_at": now, "ended_at": None, "peak_rss_mb": None, "cpu_time_s": None}
    stmt = (
        rows.insert(conn, attempts).values(run_id=run_id, task_id=task_id, number=number, **values)
        .on_conflict_do_update(index_elements=["run_id", "task_id", "number"], set_=values)
        .returning(attempts.c.id)
    )
    return int(conn.execute(stmt).scalar_one())


def finish_attempt(conn: Connection, attempt_id: int, status: str, failure_class: str | None,
                   error: str | None, exit_code: int | None, peak_rss_mb: float | None,
                   cpu_time_s: float | None, now: float) -> AttemptRecord:
    check_choice(status, ATTEMPT_STATUSES[1:], "attempt status")
    if failure_class is not None:
        check_choice(failure_class, FAILURE_CLASSES, "failure class")
    stmt = update(attempts).where(attempts.c.id == attempt_id).values(
        status=status, failure_class=failure_class, error=error, exit_code=exit_code,
        peak_rss_mb=peak_rss_mb, cpu_time_s=cpu_time_s, ended_at=now)
    if conn.execute(stmt).rowcount == 0:
        raise NotFoundError(f"attempt {attempt_id} does not exist in the metadata store")
    return rows.attempt_record(conn.execute(select(attempts).where(attempts.c.id == attempt_id)).one())


def list_attempts(conn: Connection, run_id: str, task_id: str | None) -> list[AttemptRecord]:
    stmt = select(attempts).where(attempts.c.run_id == run_id)
    if task_id is not None:
        stmt = stmt.where(attempts.c.task_id == task_id)
    stmt = stmt.order_by(attempts.c.task_id, attempts.c.number)
    return [rows.attempt_record(r) for r in conn.execute(stmt)]


def mark_stale_attempts(conn: Connection, run_id: str, failure_class: str, error: str, now: float) -> int:
    check_choice(failure_class, FAILURE_CLASSES, "failure class")
    stmt = update(attempts).where(attempts.c.run_id == run_id, attempts.c.status == "running").values(
        status="failed", failure_class=failure_class, error=error, ended_at=now)
    return conn.execute(stmt).rowcount
