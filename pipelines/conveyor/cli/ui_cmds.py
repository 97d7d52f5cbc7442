"""`conveyor ui`: parse options, resolve the profile, hand over to conveyor.ui (no logic here)."""

from __future__ import annotations

from typing import Annotated

import typer

from conveyor.cli import render
from conveyor.cli.app import app, friendly
from conveyor.cli.cluster_cmds import ProfileOpt, StackOpt, _profile

HostOpt = Annotated[str, typer.Option("--host", help="Address to bind; anything but loopback needs --token.")]
PortOpt = Annotated[int, typer.Option("--port", help="Port to serve on.")]
TokenOpt = Annotated[str | None, typer.Option("--token", envvar="CONVEYOR_UI_TOKEN", show_default=False,
                                              help="Required for non-loopback binds; sent once as ?token=.")]


@app.command()
@friendly
def ui(profile: ProfileOpt = None, stack: StackOpt = None, host: HostOpt = "127.0.0.1", port: PortOpt = 8765,
       token: TokenOpt = None) -> None:
    """Serve a read-only run explorer (runs, DAGs, tasks, artifacts, compare, schedules) in the browser."""
    try:
        from conveyor.ui import serve
        from conveyor.ui.security import check_bind
    except ImportError as exc:
        raise typer.BadParameter(f"`conveyor ui` needs the ui extra (pip install 'conveyor-ml[ui]'): {exc}") from None
    check_bind(host, token)
    resolved = _profile(profile, stack, required=False)
    if resolved is None:
        from conveyor.profile import local_profile

        resolved = local_profile()
    shown = f"[{host}]" if ":" in host else host
    suffix = "/?token=…" if token else "/"

    def ready(store_url: str) -> None:
        render.errors.print(f"conveyor ui: http://{shown}:{port}{suffix}  (store {store_url}; Ctrl-C stops)",
                            markup=False, highlight=False)

    serve(resolved, host=host, port=port, token=token, on_ready=ready)


__all__ = ["ui"]
