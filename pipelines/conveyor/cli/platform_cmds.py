"""Platform commands (need the infra extra): plan and policy check, run offline under Pulumi mocks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from conveyor.cli import render
from conveyor.cli.app import JsonOpt, app, friendly, policy_app

ProgramDir = Annotated[Path, typer.Option("--program", help="The Pulumi program directory.")]


@app.command()
@friendly
def plan(
    stack: Annotated[str, typer.Option("--stack", help="Stack name, e.g. dev-aws (reads stacks/Pulumi.<stack>.yaml).")],
    program: ProgramDir = Path("."), as_json: JsonOpt = False,
) -> None:
    """What `pulumi up` would create for a stack, computed offline under recording mocks."""
    from conveyor.platform.plan import plan as make_plan

    out = make_plan(stack, program, as_json)
    if as_json:
        render.print_json(out)
    else:
        render.console.print(out, highlight=False, markup=False)


@policy_app.command("check")
@friendly
def policy_check(
    stack: Annotated[str | None, typer.Option("--stack", help="Check one stack (stacks/Pulumi.<stack>.yaml).")] = None,
    all_stacks: Annotated[bool, typer.Option("--all", help="Check every stack in stacks/.")] = False,
    program: Annotated[Path | None, typer.Option("--program", help="Any Pulumi Python program directory.")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="With --program: its stack config file.")] = None,
    policy_config: Annotated[Path | None, typer.Option("--policy-config", help="Pack config JSON, as pulumi's --policy-pack-config.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Evaluate the policy pack offline against what the program declares; non-zero on a mandatory violation."""
    import json

    from conveyor.platform import policy_runner as pr

    chosen = sum(bool(x) for x in (stack, all_stacks, program))
    if chosen != 1:
        raise typer.BadParameter("give exactly one of --stack NAME, --all or --program DIR")
    if config is not None and program is None:
        raise typer.BadParameter("--config goes with --program")
    cfg = pr.load_policy_config(policy_config)
    if program is not None:
        reports = {str(program): pr.check_program(program, config, policy_config=cfg)}
    elif stack is not None:
        reports = {stack: pr.check_stack(stack, policy_config=cfg)}
    else:
        reports = pr.check_all(policy_config=cfg)
    if as_json:
        print(json.dumps({name: r.to_dict() for name, r in reports.items()}, indent=2, default=str))
    else:
        for name, report in reports.items():
            render.console.print(f"[bold]{name}[/]")
            render.console.print(pr.render_table(report))
    raise typer.Exit(pr.exit_code(reports))
