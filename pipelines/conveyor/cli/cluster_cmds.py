"""Cluster commands: compile, submit, schedule, sync. Parse, call ``conveyor.launcher``, render.

Profiles come from ``--profile profile.json`` (``pulumi stack output --json --show-secrets
profile > profile.json``) or ``--stack NAME`` (needs the Pulumi CLI). A bad profile, pipeline or
argument is one line on stderr and exit code 2; a failed run exits 1, like ``conveyor run``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from conveyor.cli import render
from conveyor.cli.app import EXIT_FAILED_RUN, JsonOpt, app, friendly
from conveyor.cli.bounds import positive_seconds

Target = Annotated[str, typer.Argument(help="FILE[:PIPELINE]")]
ProfileOpt = Annotated[Path | None, typer.Option("--profile", help="Profile JSON exported from the stack.")]
StackOpt = Annotated[str | None, typer.Option("--stack", help="Read the profile from this Pulumi stack.")]
Params = Annotated[list[str], typer.Option("-p", "--param", help="NAME=VALUE, repeatable.")]


def _profile(profile: Path | None, stack: str | None, required: bool = True):
    from conveyor.profile import ProfileError, load_profile, profile_from_stack

    if profile is not None and stack is not None:
        raise ProfileError("pass either --profile FILE or --stack NAME, not both")
    if profile is not None:
        return load_profile(profile)
    if stack is not None:
        return profile_from_stack(stack)
    if required:
        raise ProfileError("no profile: pass --profile FILE (from `pulumi stack output --json --show-secrets "
                           "profile > profile.json`) or --stack NAME")
    return None


def _load(target: str, params: list[str], partial: bool = False) -> tuple[Any, dict[str, Any]]:
    from conveyor.runtime.loader import find_pipeline
    from conveyor.runtime.protocol.binding import bind_arguments, parse_cli_params

    path, _, name = target.partition(":")
    spec = find_pipeline(path, name or None).pipeline_spec
    return spec, bind_arguments(spec, parse_cli_params(params), from_cli=True, partial=partial)


def _texts(arguments: dict[str, Any]) -> dict[str, str]:
    from conveyor.runtime.protocol.codec import text_form

    return {k: text_form(v) for k, v in arguments.items() if v is not None}


@app.command("compile")
@friendly
def compile_cmd(
    target: Target, profile: ProfileOpt = None, stack: StackOpt = None, param: Params = [],  # noqa: B006
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write the YAML here (default: stdout).")] = None,
    image: Annotated[str | None, typer.Option("--image", help="Task image (default: the one `conveyor image "
                                              "build` names under the profile's image_registry).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Compile a pipeline to an Argo Workflow manifest (schema-valid YAML)."""
    from conveyor.compiler.argo import CompileOptions, compile_workflow, to_yaml

    spec, bound = _load(target, param, partial=True)  # a parameter without value is declared for `argo submit -p`
    options = CompileOptions(arguments=_texts(bound), image=image)
    manifest = compile_workflow(spec, _profile(profile, stack, required=False), options)
    text = to_yaml(manifest)
    if output is not None:
        output.write_text(text)
    if as_json:
        render.print_json({"pipeline": spec.name, "output": str(output) if output else None, "bytes": len(text),
                           "tasks": len(spec.tasks), "manifest": None if output else manifest})
    elif output is None:
        print(text, end="")
    else:
        render.console.print(f"wrote {output} ({len(text):,} bytes, {len(spec.tasks)} tasks)")


def _print_event(event) -> None:
    style = render.STATUS_STYLE.get(event.phase.lower(), "")
    line = f"  {event.node:<40} [{style}]{event.phase}[/]" if style else f"  {event.node:<40} {event.phase}"
    render.console.print(line + (f"  {event.message}" if event.message else ""), highlight=False)


def _print_log(event, text: str) -> None:
    render.console.rule(f"{event.node} logs", style="dim")
    render.console.print(text.rstrip(), markup=False, highlight=False)


@app.command("submit")
@friendly
def submit_cmd(
    target: Target, profile: ProfileOpt = None, stack: StackOpt = None, param: Params = [],  # noqa: B006
    watch: Annotated[bool, typer.Option("--watch", help="Follow the Workflow until it ends.")] = False,
    logs: Annotated[bool, typer.Option("--logs", help="With --watch: print each task pod's log when it ends.")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Resolve nothing from the cache; run every task.")] = False,
    max_cache_staleness: Annotated[float | None, typer.Option("--max-cache-staleness",
                                                             help="Ignore cache entries older than this many seconds.")] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", help="Stop watching after this many seconds.")] = None,
    max_pending: Annotated[float, typer.Option("--max-pending", help="With --watch: stop (exit 1) when a task's pod "
                                               "has waited this many seconds for GPU capacity no node has.")] = 600.0,
    as_json: JsonOpt = False,
) -> None:
    """Submit a pipeline to Argo on the stack; fully cached runs create no Workflow at all."""
    positive_seconds("--max-cache-staleness", max_cache_staleness)
    positive_seconds("--timeout", timeout)
    positive_seconds("--max-pending", max_pending)
    from conveyor.launcher import core_v1, submit

    prof = _profile(profile, stack)
    spec, bound = _load(target, param)
    result = submit(spec, bound, prof, watch=watch, use_cache=not no_cache, max_cache_staleness_s=max_cache_staleness,
                    core=core_v1(prof) if watch and logs else None, timeout_s=timeout, max_pending_s=max_pending,
                    on_event=None if as_json else _print_event, on_log=_print_log if logs and not as_json else None)
    data = result.to_dict()
    if as_json:
        render.print_json(data)
    elif result.status == "pending":
        render.console.print(f"[yellow]{result.error}[/]", highlight=False)
        render.console.print(f"stopped watching Workflow [bold]{result.workflow}[/] (--max-pending {max_pending:g}); "
                             f"it stays queued: `kubectl -n {prof.namespace} delete workflow {result.workflow}` "
                             "cancels it")
        if data["tasks"]:
            render.console.print(render.task_table(data["tasks"], title=f"run {result.run_id}"))
        render.console.print(f"submitted Workflow [bold]{result.workflow}[/] in namespace {prof.namespace} "
                             f"(run {result.run_id}); `conveyor show {result.run_id}` reads its progress")
    else:
        render.run_summary(data)
        if result.workflow is None:
            render.console.print("[cyan]no Workflow was created[/]")
    if result.status in ("failed", "pending"):
        raise typer.Exit(EXIT_FAILED_RUN)


@app.command("schedule")
@friendly
def schedule_cmd(
    target: Target,
    cron: Annotated[str, typer.Option("--cron", help="5-field cron expression, e.g. '0 3 * * *', or @daily.")],
    profile: ProfileOpt = None, stack: StackOpt = None, param: Params = [],  # noqa: B006
    name: Annotated[str | None, typer.Option("--name", help="CronWorkflow name (default: the pipeline's).")] = None,
    timezone: Annotated[str | None, typer.Option("--timezone", help="IANA timezone, e.g. Europe/Berlin.")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Update the CronWorkflow if it exists.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run a pipeline on a schedule: creates an Argo CronWorkflow."""
    from conveyor.launcher import schedule

    prof = _profile(profile, stack)
    spec, bound = _load(target, param)
    created = schedule(spec, cron, prof, arguments=bound, name=name, timezone=timezone, replace=replace)
    info = {"name": created["metadata"]["name"], "namespace": prof.namespace, "schedule": cron, "pipeline": spec.name}
    if as_json:
        render.print_json(info)
    else:
        render.console.print(f"scheduled [bold]{spec.name}[/] as CronWorkflow {info['namespace']}/{info['name']} "
                             f"({cron})")


@app.command("sync")
@friendly
def sync_cmd(profile: ProfileOpt = None, stack: StackOpt = None, as_json: JsonOpt = False) -> None:
    """Record the final state of runs whose Workflow ended unwatched (scheduled runs); idempotent."""
    from conveyor.launcher import sync

    prof = _profile(profile, stack)
    results = sync(prof)
    if as_json:
        render.print_json([r.to_dict() for r in results])
        return
    changed = [r for r in results if r.action in ("closed", "created", "unreadable")]
    for r in changed:
        style = render.STATUS_STYLE.get(r.status or "", "")
        status = f"[{style}]{r.status}[/]" if style else str(r.status)
        line = f"  {r.workflow:<40} {r.action:<10} {status}" + (f"  {r.error}" if r.error else "")
        render.console.print(line, highlight=False)
    count = {a: sum(r.action == a for r in results) for a in ("closed", "created", "running", "unchanged", "unreadable")}
    render.console.print(f"{len(results)} Workflow(s) in {prof.namespace}: {count['closed'] + count['created']} "
                         f"recorded, {count['running']} still running, {count['unchanged']} already final"
                         + (f", {count['unreadable']} unreadable" if count["unreadable"] else ""))
