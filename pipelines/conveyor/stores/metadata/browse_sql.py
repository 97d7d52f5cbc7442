"""RunBrowser over SQLAlchemy: the SQL behind the run explorer's lists, for SQLite and Postgres.

Every query names the columns it needs (never `spec_json` or outputs), filters in SQL, and pages
by key: `(sort value, run_id)` after the previous page's last row, so page 200 costs what page 1
costs. Label and argument filters read the indexed `run_tags` rows (tags.py); sort by cost reads the
cost stored when a run ends; the cost shown is always the live sum over the page's task rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Text, and_, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection

from conveyor.stores.metadata import rows, schedules, tags
from conveyor.stores.metadata.api import ArtifactRecord, NotFoundError, ScheduleRecord
from conveyor.stores.metadata.browse import (
    ERROR_PREVIEW_CHARS,
    RunBrowser,
    RunFacts,
    RunPage,
    RunQuery,
    RunSummary,
    TaskSummary,
    decode_cursor,
    encode_cursor,
)
from conveyor.stores.metadata.schema import artifacts, metrics, run_tags, runs, tasks

_MISSING = -1.0e300  # where a sort key is unknown (no metric, still running): last when descending


def json_text(conn: Connection, column, key: str):
    """`column` (JSON text) → the value at top-level `key` as text, in this connection's dialect."""
    if conn.dialect.name == "postgresql":
        return cast(column, JSONB).op("->>")(key)
    path = '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return cast(func.json_extract(column, path), Text())


def _sort_key(sort: str):
    """(the sort expression, the FROM clause it needs)."""
    if sort == "start":
        return runs.c.created_at, runs
    if sort == "duration":
        return func.coalesce(runs.c.ended_at - runs.c.started_at, _MISSING), runs
    if sort == "cost":  # stored when the run ends: a column, not a SUM over every task row
        return func.coalesce(runs.c.cost_usd, _MISSING), runs
    # One grouped pass over the metric's index rows, joined: a per-run subquery costs 10,000 lookups.
    name = sort.split(":", 1)[1]
    best = (select(metrics.c.run_id, func.max(metrics.c.value).label("best")).where(metrics.c.name == name)
            .group_by(metrics.c.run_id).subquery("best_metric"))
    return func.coalesce(best.c.best, _MISSING), runs.outerjoin(best, best.c.run_id == runs.c.run_id)


def _filters(conn: Connection, q: RunQuery) -> list:
    where = []
    if q.pipeline is not None:
        where.append(runs.c.pipeline_name == q.pipeline)
    if q.status is not None:
        where.append(runs.c.status == q.status)
    if q.since is not None:
        where.append(runs.c.created_at >= q.since)
    if q.until is not None:
        where.append(runs.c.created_at < q.until)
    if q.tag is not None:
        where.append(_tagged(conn, tags.LABEL, runs.c.labels_json, *q.tag))
    if q.param is not None:
        where.append(_tagged(conn, tags.PARAM, runs.c.arguments_json, *q.param))
    return where


def _tagged(conn: Connection, kind: str, column, name: str, typed: str):
    """Runs whose label/argument `name` has the text `typed`: from the run_tags index where it holds it."""
    value = tags.query_text(typed)
    if not (tags.indexed(name) and tags.indexed(value)):  # too long to be indexed: read the JSON column
        return json_text(conn, column, name) == value
    return runs.c.run_id.in_(select(run_tags.c.run_id).where(
        run_tags.c.kind == kind, run_tags.c.name == name, run_tags.c.value == value))


def runs_page(conn: Connection, query: RunQuery) -> RunPage:
    q = query.checked()
    expr, source = _sort_key(q.sort)
    key = expr.label("sort_value")
    where = _filters(conn, q)
    total = conn.execute(select(func.count()).select_from(runs).where(*where)).scalar_one()
    stmt = select(
        runs.c.run_id, runs.c.pipeline_name, runs.c.status, runs.c.profile_name, runs.c.labels_json,
        func.substr(runs.c.error, 1, ERROR_PREVIEW_CHARS).label("error"), runs.c.created_at,
        runs.c.started_at, runs.c.ended_at, key,
    ).select_from(source).where(*where)
    if q.after is not None:
        value, run_id = decode_cursor(q.after)
        bound = literal(value, Float)
        beyond, reached = (expr < bound, expr <= bound) if q.descending else (expr > bound, expr >= bound)
        # `reached` alone is a range the sort key's index can seek to; the OR then only breaks ties.
        stmt = stmt.where(reached, or_(beyond, and_(expr == bound, runs.c.run_id > run_id)))
    stmt = stmt.order_by(expr.desc() if q.descending else expr.asc(), runs.c.run_id).limit(q.limit + 1)
    found = conn.execute(stmt).all()
    more, found = len(found) > q.limit, found[: q.limit]
    counts, costs = _task_counts(conn, [r.run_id for r in found])
    summaries = [_summary(r, counts.get(r.run_id, {}), costs.get(r.run_id, 0.0)) for r in found]
    last = found[-1] if found else None
    cursor = encode_cursor(float(last.sort_value), last.run_id) if more and last is not None else None
    return RunPage(summaries, cursor, int(total))


def _summary(r: Any, counts: dict[str, int], cost_usd: float = 0.0) -> RunSummary:
    sort_value = None if r.sort_value is None or float(r.sort_value) <= _MISSING else float(r.sort_value)
    return RunSummary(
        run_id=r.run_id, pipeline_name=r.pipeline_name, status=r.status, profile_name=r.profile_name,
        labels=rows.loads(r.labels_json) or {}, error=r.error, created_at=r.created_at, started_at=r.started_at,
        ended_at=r.ended_at, cost_usd=float(cost_usd or 0.0), sort_value=sort_value, task_counts=counts)


def _task_counts(conn: Connection, run_ids: list[str]) -> tuple[dict[str, dict[str, int]], dict[str, float]]:
    """Task counts by status and the live cost of one page of runs (one grouped read of their task rows)."""
    counts: dict[str, dict[str, int]] = {}
    costs: dict[str, float] = {}
    if not run_ids:
        return counts, costs
    stmt = (select(tasks.c.run_id, tasks.c.status, func.count(), func.coalesce(func.sum(tasks.c.cost_usd), 0.0))
            .where(tasks.c.run_id.in_(run_ids)).group_by(tasks.c.run_id, tasks.c.status))
    for run_id, status, n, cost in conn.execute(stmt):
        counts.setdefault(run_id, {})[status] = int(n)
        costs[run_id] = costs.get(run_id, 0.0) + float(cost)
    return counts, costs


def task_summaries(conn: Connection, run_id: str) -> list[TaskSummary]:
    stmt = select(
        tasks.c.task_id, tasks.c.task_name, tasks.c.status, tasks.c.started_at, tasks.c.ended_at,
        tasks.c.duration_s, tasks.c.cost_usd, tasks.c.saved_s, tasks.c.cached_from_run, tasks.c.cached_from_task,
        func.substr(tasks.c.error, 1, ERROR_PREVIEW_CHARS).label("error"), tasks.c.updated_at,
    ).where(tasks.c.run_id == run_id).order_by(tasks.c.created_at, tasks.c.task_id)
    return [TaskSummary(**r._mapping) for r in conn.execute(stmt)]


def run_facts(conn: Connection, run_ids: list[str]) -> list[RunFacts]:
    if not run_ids:
        return []
    found = {r.run_id: r for r in conn.execute(
        select(runs.c.run_id, runs.c.pipeline_name, runs.c.status, runs.c.arguments_json)
        .where(runs.c.run_id.in_(run_ids)))}
    values: dict[str, dict[str, float]] = {}
    for run_id, name, value in conn.execute(
            select(metrics.c.run_id, metrics.c.name, func.max(metrics.c.value))
            .where(metrics.c.run_id.in_(run_ids)).group_by(metrics.c.run_id, metrics.c.name)):
        values.setdefault(run_id, {})[name] = float(value)
    return [RunFacts(i, found[i].pipeline_name, found[i].status, rows.loads(found[i].arguments_json) or {},
                     values.get(i, {})) for i in dict.fromkeys(run_ids) if i in found]


def schedule_firings(conn: Connection, label: str, per_schedule: int) -> dict[str, list[RunSummary]]:
    """Newest firings first, found through the run_tags index (the label a scheduled run carries)."""
    stmt = select(
        runs.c.run_id, runs.c.pipeline_name, runs.c.status, runs.c.profile_name, runs.c.labels_json,
        func.substr(runs.c.error, 1, ERROR_PREVIEW_CHARS).label("error"), runs.c.created_at, runs.c.started_at,
        runs.c.ended_at, runs.c.created_at.label("sort_value"), run_tags.c.value.label("schedule"),
    ).join(run_tags, run_tags.c.run_id == runs.c.run_id).where(
        run_tags.c.kind == tags.LABEL, run_tags.c.name == label).order_by(run_tags.c.created_at.desc()).limit(5000)
    out: dict[str, list[RunSummary]] = {}
    for r in conn.execute(stmt):
        group = out.setdefault(r.schedule, [])
        if len(group) < per_schedule:
            group.append(_summary(r, {}, 0.0))
    return out


class SqlRunBrowser(RunBrowser):
    def __init__(self, transactor):
        self._tx = transactor

    def runs_page(self, query: RunQuery) -> RunPage:
        return self._tx.read(lambda c: runs_page(c, query))

    def task_summaries(self, run_id: str) -> list[TaskSummary]:
        return self._tx.read(lambda c: task_summaries(c, run_id))

    def run_facts(self, run_ids: list[str]) -> list[RunFacts]:
        return self._tx.read(lambda c: run_facts(c, list(run_ids)))

    def pipelines(self) -> list[str]:
        return self._tx.read(lambda c: [r[0] for r in c.execute(
            select(runs.c.pipeline_name).distinct().order_by(runs.c.pipeline_name))])

    def metric_names(self, limit: int = 200) -> list[str]:
        return self._tx.read(lambda c: [r[0] for r in c.execute(
            select(metrics.c.name).distinct().order_by(metrics.c.name).limit(limit))])

    def get_artifact(self, artifact_id: int) -> ArtifactRecord:
        def read(c: Connection) -> ArtifactRecord:
            row = c.execute(select(artifacts).where(artifacts.c.id == int(artifact_id))).first()
            if row is None:
                raise NotFoundError(f"artifact {artifact_id} does not exist in the metadata store")
            return rows.artifact_record(row)
        return self._tx.read(read)

    def task_artifacts(self, run_id: str, task_id: str) -> list[ArtifactRecord]:
        return self._tx.read(lambda c: [rows.artifact_record(r) for r in c.execute(
            select(artifacts).where(artifacts.c.producer_run_id == run_id, artifacts.c.producer_task_id == task_id)
            .order_by(artifacts.c.id))])

    def schedules(self) -> list[ScheduleRecord]:
        return self._tx.read(schedules.list_schedules)

    def schedule_firings(self, label: str = "schedule", per_schedule: int = 20) -> dict[str, list[RunSummary]]:
        return self._tx.read(lambda c: schedule_firings(c, label, per_schedule))
