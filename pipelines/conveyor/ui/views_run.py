"""Views of one run and one task: the DAG, attempts, resources against peaks, logs, lineage."""

from __future__ import annotations

import json
from collections.abc import Iterator

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import StreamingResponse

from conveyor.executor.rightsize import advise
from conveyor.ir.spec import PipelineSpec
from conveyor.notify.secrets import redact
from conveyor.runtime.protocol.tasklog import is_log, log_output_name
from conveyor.stores.metadata import NotFoundError
from conveyor.ui.dag import build_dag
from conveyor.ui.previews import local_copy, read_tail
from conveyor.ui.security import SANDBOX_CSP

INSTANCE_ROWS = 200
LOG_TAIL_BYTES = 64 * 1024
LOG_CHUNK = 64 * 1024


def _spec(spec_json: str) -> tuple[PipelineSpec | None, str | None]:
    try:
        return PipelineSpec.from_json(spec_json), None
    except (ValidationError, ValueError) as exc:
        return None, f"the run's pipeline spec cannot be read ({type(exc).__name__}); the graph is not shown"


def run(ctx, request: Request):
    run_id = request.path_params["run_id"]
    record = ctx.store.get_run(run_id)
    tasks = ctx.browser.task_summaries(run_id)
    spec, problem = _spec(record.spec_json)
    expanded = set(request.query_params.getlist("expand"))
    dag = None
    if spec is not None:
        try:
            dag = build_dag(spec, tasks, expanded)
        except ValueError as exc:
            problem = f"the graph cannot be drawn: {exc}"
    failed = [t for t in tasks if t.status == "failed"]
    order = {"failed": 0, "running": 1, "pending": 2}
    shown = sorted(tasks, key=lambda t: order.get(t.status, 3))
    everything = request.query_params.get("instances") == "all"
    counts: dict[str, int] = {}
    for t in tasks:
        counts[t.status] = counts.get(t.status, 0) + 1
    return ctx.render(
        request, "run.html", run=record, tasks=shown if everything else shown[:INSTANCE_ROWS],
        hidden=0 if everything else max(0, len(tasks) - INSTANCE_ROWS), failed=failed, dag=dag, problem=problem,
        expanded=expanded, counts=counts, live=record.status in ("queued", "running"),
        saved_s=sum(t.saved_s or 0.0 for t in tasks), cached=counts.get("cached", 0))


def _requests(spec: PipelineSpec | None, task_name: str) -> dict[str, object]:
    if spec is None or task_name not in spec.tasks:
        return {}
    r = spec.tasks[task_name].resources
    return {"cpu_request": r.cpu_request, "memory_request_mb": r.memory_request / 2**20 if r.memory_request else None,
            "cpu_limit": r.cpu_limit, "memory_limit_mb": r.memory_limit / 2**20 if r.memory_limit else None}


def task(ctx, request: Request):
    run_id, task_id = request.path_params["run_id"], request.path_params["task_id"]
    record = ctx.store.get_task(run_id, task_id)
    run_record = ctx.store.get_run(run_id)
    spec, _ = _spec(run_record.spec_json)
    attempts = ctx.store.list_attempts(run_id, task_id)
    produced = ctx.browser.task_artifacts(run_id, task_id)
    logs = []
    for art in (a for a in produced if is_log(a.output_name)):
        try:
            with local_copy(ctx.artifacts, art.uri) as path:
                tail, cut = read_tail(path, LOG_TAIL_BYTES)
            logs.append({"artifact": art, "text": tail.decode("utf-8", errors="replace"), "cut": cut,
                         "number": art.metadata.get("attempt", 0), "problem": None})
        except Exception as exc:  # noqa: BLE001 - a lost log is reported, the page still renders
            logs.append({"artifact": art, "text": "", "cut": False, "problem": f"log unreadable: {exc}",
                         "number": art.metadata.get("attempt", 0)})
    logs += _absent_logs(attempts, {entry["number"] for entry in logs}, record)
    inputs = []
    for row in ctx.store.list_lineage(run_id=run_id):
        if row.task_id == task_id and row.direction == "in":
            try:
                inputs.append(ctx.browser.get_artifact(row.artifact_id))
            except NotFoundError:
                continue
    bindings = {}
    if spec is not None and record.task_name in spec.tasks:
        bindings = {k: json.dumps(v.model_dump(mode="json") if hasattr(v, "model_dump") else v, default=str)
                    for k, v in spec.tasks[record.task_name].arguments.items()}
    return ctx.render(
        request, "task.html", run=run_record, task=record, attempts=attempts, advice=advise(record.task_name, attempts),
        requests=_requests(spec, record.task_name), outputs=[a for a in produced if not is_log(a.output_name)],
        inputs=inputs, logs=sorted(logs, key=lambda x: x["number"]), bindings=bindings,
        live=record.status in ("pending", "running"))


def _absent_logs(attempts, persisted: set[int], record) -> list[dict]:
    """A clear note for every attempt whose log is not in the store, saying why it may be missing."""
    out = []
    for a in attempts:
        if a.number in persisted:
            continue
        if a.status == "running":
            why = "the attempt is still running; its log is stored when it ends"
        else:
            why = ("no log was persisted for this attempt: it printed nothing, or its process or pod ended "
                   "before the log could be stored (e.g. killed or evicted)")
        out.append({"artifact": None, "text": "", "cut": False, "number": a.number, "problem": why})
    if not attempts and record.cached_from_run:
        out.append({"artifact": None, "text": "", "cut": False, "number": 0,
                    "problem": "a cache hit runs nothing, so it has no log: the producing task's log is there"})
    return out


def _stream(ctx, uri: str) -> Iterator[bytes]:
    with local_copy(ctx.artifacts, uri) as path, path.open("rb") as fh:
        while chunk := fh.read(LOG_CHUNK):
            rest = fh.readline(LOG_CHUNK)  # end chunks on a line boundary, so redaction sees whole lines
            yield redact((chunk + rest).decode("utf-8", errors="replace")).encode()


def raw_log(ctx, request: Request):
    run_id, task_id = request.path_params["run_id"], request.path_params["task_id"]
    name = log_output_name(request.path_params["number"])
    art = next((a for a in ctx.browser.task_artifacts(run_id, task_id) if a.output_name == name), None)
    if art is None:
        raise NotFoundError(f"task {task_id!r} of run {run_id!r} has no persisted log {name!r}")
    return StreamingResponse(_stream(ctx, art.uri), media_type="text/plain; charset=utf-8",
                             headers={"Content-Security-Policy": SANDBOX_CSP})
