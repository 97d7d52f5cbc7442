"""`conveyor`: the typer app. Parse, call one function below, render; errors become one line."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from conveyor.cli import render

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="conveyor: ML pipelines that run the same on a laptop and on the platform.")
cache_app = typer.Typer(no_args_is_help=True, help="Inspect and prune the task cache.")
policy_app = typer.Typer(no_args_is_help=True, help="Policy-as-code checks of the platform program.")
app.add_typer(cache_app, name="cache")
app.add_typer(policy_app, name="policy")

STATE = {"debug": False}
EXIT_FAILED_RUN = 1
EXIT_USAGE = 2

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]


def friendly(fn):
    """Known errors print as one line with a non-zero exit; --debug shows the traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from conveyor.cli.errors import describe_error

        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            render.errors.print("[red]interrupted[/]")
            raise typer.Exit(130) from None
        except Exception as exc:  # noqa: BLE001 - every failure gets a readable line
            if STATE["debug"]:
                raise
            message = describe_error(exc)
            if message is None:
                raise
            # escaped: "[...]" in a message (shard[3], gpu_pools[a10g]) is text, not rich markup
            render.errors.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False)
            raise typer.Exit(EXIT_USAGE) from None

    return wrapper


@app.callback()
def main_options(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False) -> None:
    STATE["debug"] = debug


from conveyor.cli import cluster_cmds as _cluster  # noqa: E402,F401
from conveyor.cli import image_cmds as _image  # noqa: E402,F401
from conveyor.cli import local_cmds as _local  # noqa: E402,F401  (registers commands)
from conveyor.cli import platform_cmds as _platform  # noqa: E402,F401
from conveyor.cli import ui_cmds as _ui  # noqa: E402,F401


def main() -> None:
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 5000))
    app()


__all__ = ["app", "main", "Path"]
