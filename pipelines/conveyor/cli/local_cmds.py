"""Local-mode commands: run, resume, runs, show, cache, rightsize."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from conveyor.cli import render
from conveyor.cli.app import EXIT_FAILED_RUN, JsonOpt, app, cache_app, friendly
from conveyor.cli.bounds import positive_count, positive_seconds


def _runner(profile: Path | None = None):
    """The stores of the local profile, or of a stack's profile (cluster runs live there)."""
    from conveyor.executor.run import LocalRunner
    from conveyor.profile import load_profile

    return LocalRunner(profile=load_profile(profile) if profile else None)


def _finish(result, as_json: bool) -> None:
    data = result.to_dict()
    if as_json:
        render.print_json(data)
    else:
        render.run_summary(data)
    if not result.succeeded:
        raise typer.Exit(EXIT_FAILED_RUN)


def _options(no_cache, parallelism, max_cache_staleness, strict_resources, notify, pushgateway, keep_workdirs,
             isolate=False, metrics_textfile=None):
    from conveyor.executor.run import RunOptions

    positive_count("--parallelism", parallelism)
    positive_seconds("--max-cache-staleness", max_cache_staleness)
    for target in notify:
        from conveyor.notify import notifier_from_target

        notifier_from_target(target).check()  # resolves the reference now, not after the run
    return RunOptions(parallelism=parallelism or 0, use_cache=not no_cache, max_cache_staleness_s=max_cache_staleness,
                      strict_resources=strict_resources, notify=list(notify), pushgateway=pushgateway,
                      keep_workdirs=keep_workdirs, isolate=isolate,
                      metrics_textfile=str(metrics_textfile) if metrics_textfile else None)


NoCache = Annotated[bool, typer.Option("--no-cache", help="Recompute every task; still stores results.")]
Parallelism = Annotated[int | None, typer.Option("--parallelism", "-j", help="Tasks at once (default: cores).")]
Staleness = Annotated[float | None, typer.Option("--max-cache-staleness", help="Ignore cache entries older than this many seconds.")]
Strict = Annotated[bool, typer.Option("--strict-resources", help="Refuse tasks that request more than this machine has.")]
Notify = Annotated[list[str], typer.Option("--notify", help="Webhook for the run report: URL, env:VAR, VAR or file:/path.")]
Gateway = Annotated[str | None, typer.Option("--pushgateway", help="Push run metrics to this Prometheus Pushgateway.")]
Textfile = Annotated[Path | None, typer.Option("--metrics-textfile", help="Also write run metrics for node-exporter's textfile collector.")]
Isolate = Annotated[bool, typer.Option("--isolate", help="Run components whose packages_to_install differ from this env in a cached uv venv.")]
ProfileOpt = Annotated[Path | None, typer.Option("--profile", help="Read this profile's metadata store (e.g. a stack's Postgres) instead of the local one.")]
KeepWork = Annotated[bool, typer.Option("--keep-workdirs", help="Keep each attempt's scratch directory.")]


@app.command()
@friendly
def run(
    target: Annotated[str, typer.Argument(help="FILE[:PIPELINE]")],
    param: Annotated[list[str], typer.Option("-p", "--param", help="NAME=VALUE, repeatable.")] = [],  # noqa: B006
    no_cache: NoCache = False, parallelism: Parallelism = None, max_cache_staleness: Staleness = None,
    strict_resources: Strict = False, notify: Notify = [], pushgateway: Gateway = None,  # noqa: B006
    keep_workdirs: KeepWork = False, isolate: Isolate = False, metrics_textfile: Textfile = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a pipeline locally: each task in its own process, SQLite metadata, local artifacts."""
    from conveyor.runtime.loader import find_pipeline
    from conveyor.runtime.protocol.binding import parse_cli_params

    path, _, name = target.partition(":")
    params = parse_cli_params(param)
    options = _options(no_cache, parallelism, max_cache_staleness, strict_resources, notify, pushgateway, keep_workdirs,
                       isolate, metrics_textfile)
    pipeline = find_pipeline(path, name or None)
    spec = pipeline.pipeline_spec
    with _runner() as runner, render.Progress(spec.name, enabled=not as_json) as progress:
        result = runner.run(spec, params, from_cli=True, options=options, preload=[path], observer=progress)
    _finish(result, as_json)


@app.command()
@friendly
def resume(
    run_id: str, parallelism: Parallelism = None, notify: Notify = [], as_json: JsonOpt = False,  # noqa: B006
) -> None:
    """Continue a failed or killed run; every task that completed is reused, not recomputed."""
    options = _options(False, parallelism, None, False, notify, None, False)
    with _runner() as runner, render.Progress(run_id, enabled=not as_json) as progress:
        result = runner.resume(run_id, options=options, observer=progress)
    _finish(result, as_json)


@app.command()
@friendly
def runs(
    limit: Annotated[int, typer.Option(help="How many.")] = 20,
    status: Annotated[str | None, typer.Option(help="Only runs with this status.")] = None,
    pipeline: Annotated[str | None, typer.Option(help="Only runs of this pipeline.")] = None,
    sort: Annotated[str, typer.Option(help="created_at, cost or duration; prefix - for descending.")] = "-created_at",
    profile: ProfileOpt = None, as_json: JsonOpt = False,
) -> None:
    """List runs, newest first (or by cost/duration)."""
    positive_count("--limit", limit)
    with _runner(profile) as runner:
        records = runner.store.list_runs(limit=limit, status=status, pipeline=pipeline, order_by=sort)
    rows = [{"run_id": r.run_id, "pipeline": r.pipeline_name, "status": r.status, "duration_s": r.duration_s,
             "cost_usd": r.cost_usd, "created_at": r.created_at} for r in records]
    if as_json:
        render.print_json(rows)
        return
    table = render.Table(header_style="bold")
    for column in ("run", "pipeline", "status", "duration", "cost"):
        table.add_column(column)
    for r in rows:
        table.add_row(r["run_id"], r["pipeline"], render.Text(r["status"], style=render.STATUS_STYLE.get(r["status"], "")),
                      render.fmt_seconds(r["duration_s"]), render.fmt_money(r["cost_usd"]))
    render.console.print(table)


@app.command()
@friendly
def show(run_id: str, profile: ProfileOpt = None, as_json: JsonOpt = False) -> None:
    """One run: its tasks, attempts, metrics and outputs."""
    with _runner(profile) as runner:
        record = runner.store.get_run(run_id)
        tasks = runner.store.list_tasks(run_id)
        metrics = runner.store.list_metrics(run_id)
    data = {"run_id": record.run_id, "pipeline": record.pipeline_name, "status": record.status,
            "error": record.error, "duration_s": record.duration_s, "arguments": record.arguments,
            "outputs": record.outputs, "cost_usd": record.cost_usd,
            "tasks": [{"name": t.task_id, "task": t.task_name, "status": t.status, "attempts": t.attempts,
                       "duration_s": t.duration_s, "peak_rss_mb": t.peak_rss_mb, "cost_usd": t.cost_usd,
                       "saved_s": t.saved_s, "error": t.error, "cached_from_run": t.cached_from_run} for t in tasks],
            "metrics": [{"task": m.task_id, "name": m.name, "value": m.value} for m in metrics]}
    if as_json:
        render.print_json(data)
        return
    render.console.print(f"[bold]{data['pipeline']}[/] {run_id}: {data['status']} "
                         f"in {render.fmt_seconds(data['duration_s'])}")
    if data["error"]:
        render.console.print(f"[red]{data['error']}[/]")
    render.console.print(render.task_table(data["tasks"]))
    for m in data["metrics"]:
        render.console.print(f"  {m['task']}: {m['name']} = {m['value']:g}")


@cache_app.command("ls")
@friendly
def cache_ls(limit: Annotated[int, typer.Option(help="How many.")] = 50, profile: ProfileOpt = None, as_json: JsonOpt = False) -> None:
    """Cache entries, newest first."""
    positive_count("--limit", limit)
    with _runner(profile) as runner:
        entries = runner.store.cache_list(limit=limit)
    rows = [{"key": e.key[:16], "source": f"{e.source_run_id}/{e.source_task_id}", "created_at": e.created_at,
             "duration_s": e.duration_s, "ttl_s": e.ttl_s} for e in entries]
    if as_json:
        render.print_json(rows)
        return
    table = render.Table(header_style="bold")
    for column in ("key", "from", "compute", "ttl"):
        table.add_column(column)
    for r in rows:
        table.add_row(r["key"], r["source"], render.fmt_seconds(r["duration_s"]),
                      "-" if r["ttl_s"] is None else render.fmt_seconds(r["ttl_s"]))
    render.console.print(table)


@cache_app.command("prune")
@friendly
def cache_prune(
    older_than: Annotated[float | None, typer.Option(help="Drop entries older than this many seconds.")] = None,
    all_entries: Annotated[bool, typer.Option("--all", help="Drop every entry.")] = False,
    profile: ProfileOpt = None, as_json: JsonOpt = False,
) -> None:
    """Drop expired entries (past their TTL), old ones, or all."""
    positive_seconds("--older-than", older_than)
    with _runner(profile) as runner:
        removed = runner.store.cache_prune(older_than_s=older_than, expired=True, all=all_entries)
    if as_json:
        render.print_json({"removed": removed})
    else:
        render.console.print(f"removed {removed} cache entr{'y' if removed == 1 else 'ies'}")


@app.command()
@friendly
def rightsize(run_id: str, profile: ProfileOpt = None, as_json: JsonOpt = False) -> None:
    """Suggest requests and limits per task from the peaks recorded in a run."""
    from conveyor.executor.rightsize import rightsize as suggest

    with _runner(profile) as runner:
        runner.store.get_run(run_id)
        suggestions = suggest(runner.store, run_id)
    if as_json:
        render.print_json([s.to_dict() for s in suggestions])
        return
    table = render.Table(header_style="bold", title=f"suggested resources for {run_id}")
    for column in ("task", "peak mem", "avg cores", "memory req/limit", "cpu req/limit"):
        table.add_column(column)
    for s in suggestions:
        table.add_row(s.task, "-" if s.peak_rss_mb is None else f"{s.peak_rss_mb:.0f} MB",
                      "-" if s.avg_cores is None else f"{s.avg_cores:.2f}",
                      f"{s.memory_request or '-'} / {s.memory_limit or '-'}", f"{s.cpu_request or '-'} / {s.cpu_limit or '-'}")
    render.console.print(table)
