"""The metadata half of "nothing lost": what the reliability suite checks after every crash trial.

A run is consistent when every completed task has recorded outputs whose artifacts carry digests
and exist in the artifacts table, every task that ran to success has a successful attempt, and —
once the run has ended — nothing is left `running`.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from conveyor.stores.metadata import runs as run_ops
from conveyor.stores.metadata.api import TERMINAL_RUN_STATUSES, ConsistencyReport
from conveyor.stores.metadata.schema import artifacts


def report(conn: Connection, run_id: str) -> ConsistencyReport:
    run = run_ops.get_run(conn, run_id)
    problems: list[str] = []
    attempts_by_task: dict[str, list] = {}
    for a in run_ops.list_attempts(conn, run_id, None):
        attempts_by_task.setdefault(a.task_id, []).append(a)

    for task in run_ops.list_tasks(conn, run_id):
        where = f"task {task.task_id!r}"
        if task.status in ("succeeded", "cached"):
            problems.extend(_output_problems(conn, where, task.outputs))
        if task.status == "succeeded" and not any(a.status == "succeeded" for a in attempts_by_task.get(task.task_id, [])):
            problems.append(f"{where} is succeeded but has no succeeded attempt")
        if task.status == "cached" and not task.cached_from_run:
            problems.append(f"{where} is cached but names no source run")
        if run.status in TERMINAL_RUN_STATUSES and task.status == "running":
            problems.append(f"{where} is still running although the run is {run.status}")

    if run.status in TERMINAL_RUN_STATUSES:
        for task_attempts in attempts_by_task.values():
            for a in task_attempts:
                if a.status == "running":
                    problems.append(
                        f"attempt {a.number} of task {a.task_id!r} is still running although the run is {run.status}"
                    )
    return ConsistencyReport(run_id=run_id, problems=tuple(problems))


def _output_problems(conn: Connection, where: str, outputs: dict | None) -> list[str]:
    if outputs is None:
        return [f"{where} completed without recorded outputs"]
    problems = []
    for name, art in (outputs.get("artifacts") or {}).items():
        if not isinstance(art, dict) or not art.get("uri") or not art.get("digest"):
            problems.append(f"{where}: artifact output {name!r} lacks a uri or digest")
            continue
        found = conn.execute(
            select(artifacts.c.id).where(artifacts.c.uri == art["uri"], artifacts.c.digest == art["digest"]).limit(1)
        ).first()
        if found is None:
            problems.append(
                f"{where}: artifact output {name!r} ({art['uri']}, {art['digest']}) is not in the artifacts table"
            )
    return problems
