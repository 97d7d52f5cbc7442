"""`conveyor ui`: a read-only run explorer over the metadata and artifact stores of a profile.

Server-rendered HTML and SVG (Starlette + Jinja2, autoescaped), no JavaScript build and no
third-party script: one small inline script of ours polls the page while something is running.
Needs the `ui` extra (starlette, uvicorn, jinja2, markdown-it-py); imported lazily by the CLI.
"""

from __future__ import annotations

from typing import Any

from conveyor.profile import Profile

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def create_app(*args: Any, **kwargs: Any):
    from conveyor.ui.app import create_app as build

    return build(*args, **kwargs)


def serve(profile: Profile, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, token: str | None = None,
          on_ready=None) -> None:
    """Open the profile's stores and serve until interrupted. Refuses a non-loopback bind without a token."""
    import uvicorn

    from conveyor.stores.artifacts import open_artifact_store
    from conveyor.stores.metadata import open_metadata_store
    from conveyor.ui.security import check_bind

    check_bind(host, token)
    store = open_metadata_store(profile.metadata_url.get_secret_value())
    try:
        artifacts = open_artifact_store(profile.artifact_root, **profile.artifact_store_options())
        app = create_app(store, artifacts, token=token)
        if on_ready is not None:
            on_ready(store.url)
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        store.close()


__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "create_app", "serve"]
