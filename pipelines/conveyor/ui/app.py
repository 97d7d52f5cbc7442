"""The Starlette application: routes, templates and the one error page.

`create_app(store, artifacts)` takes already-open stores, so tests and the bench serve any store
(SQLite, Postgres) the same way `conveyor ui` does. Every view is a plain function returning a
template response; Starlette runs them in its thread pool, since the stores are synchronous.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from conveyor.stores.artifacts import ArtifactStore
from conveyor.stores.metadata import MetadataStore, MetadataStoreError, NotFoundError
from conveyor.stores.metadata.browse import RunBrowser
from conveyor.ui.format import FILTERS, finalize
from conveyor.ui.security import Guard

TEMPLATES = Path(__file__).with_name("templates")


@dataclass
class Context:
    store: MetadataStore
    browser: RunBrowser
    artifacts: ArtifactStore
    env: jinja2.Environment
    title: str

    def render(self, request: Request, name: str, status_code: int = 200, **values) -> HTMLResponse:
        html = self.env.get_template(name).render(
            request=request, nonce=getattr(request.state, "nonce", ""), title=self.title, store_url=self.store.url,
            **values)
        return HTMLResponse(html, status_code=status_code)


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, finalize=finalize,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters.update(FILTERS)
    return env


def create_app(store: MetadataStore, artifacts: ArtifactStore, *, token: str | None = None,
               title: str = "conveyor") -> Starlette:
    from conveyor.ui import views_artifacts, views_run, views_runs, views_schedules

    ctx = Context(store, store.browser(), artifacts, environment(), title)

    def bind(fn):
        def endpoint(request: Request) -> Response:
            try:
                return fn(ctx, request)
            except NotFoundError as exc:
                return ctx.render(request, "error.html", 404, message=str(exc))
            except (MetadataStoreError, ValueError) as exc:  # bad filter, cursor, id: the request's fault
                return ctx.render(request, "error.html", 400, message=str(exc))
        return endpoint

    routes = [
        Route("/", bind(views_runs.runs)),
        Route("/schedules", bind(views_schedules.schedules)),
        Route("/compare", bind(views_runs.compare)),
        Route("/runs/{run_id}", bind(views_run.run)),
        Route("/runs/{run_id}/tasks/{task_id}", bind(views_run.task)),
        Route("/runs/{run_id}/tasks/{task_id}/log/{number:int}", bind(views_run.raw_log)),
        Route("/artifacts/{artifact_id:int}", bind(views_artifacts.artifact)),
        Route("/artifacts/{artifact_id:int}/raw", bind(views_artifacts.raw)),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Route("/healthz", lambda request: Response("ok", media_type="text/plain")),
    ]

    def not_found(request: Request, exc: HTTPException) -> Response:
        return ctx.render(request, "error.html", exc.status_code, message=exc.detail)

    return Starlette(routes=routes, middleware=[Middleware(Guard, token=token)],
                     exception_handlers={HTTPException: not_found})
