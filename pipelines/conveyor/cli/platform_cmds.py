"""Platform commands (need the infra extra): plan and policy check, run offline under Pulumi mocks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from conveyor.cli import render
from conveyor.cli.app import JsonOpt, app, friendly

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
