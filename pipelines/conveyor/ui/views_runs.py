"""Views over many runs: the runs list and Compare."""

from __future__ import annotations

import calendar
import json
import re
import time
from urllib.parse import urlencode

from starlette.requests import Request

from conveyor.stores.metadata.api import RUN_STATUSES
from conveyor.stores.metadata.browse import RUN_SORTS, RunQuery
from conveyor.ui.charts import parallel_coordinates, xy_chart

LIVE_STATUSES = ("queued", "running")
_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)([mhdw])$")
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
COMPARE_MAX = 500


def parse_time(key: str, text: str | None, now: float) -> float | None:
    """`24h` / `7d` (ago), `2026-12-01`, `2026-12-01T10:00` (UTC), or epoch seconds."""
    if not text:
        return None
    if m := _RELATIVE.match(text.strip()):
        return now - float(m.group(1)) * _UNITS[m.group(2)]
    for fmt in ("%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            return float(calendar.timegm(time.strptime(text.strip(), fmt)))
        except ValueError:
            continue
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{key}={text!r} is not a time: use 24h, 7d, 2026-12-01, 2026-12-01T10:00 (UTC) "
                         "or epoch seconds") from None


def parse_pair(key: str, text: str | None) -> tuple[str, str] | None:
    if not text:
        return None
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise ValueError(f"{key}={text!r} must be NAME=VALUE")
    return name.strip(), value.strip()


def query_from(request: Request, limit_default: int = 50) -> RunQuery:
    p = request.query_params
    now = time.time()
    order = p.get("order", "desc")
    if order not in ("asc", "desc"):
        raise ValueError(f"order={order!r} is not one of asc, desc")
    try:
        limit = int(p.get("limit", limit_default))
    except ValueError:
        raise ValueError(f"limit={p.get('limit')!r} is not a whole number") from None
    return RunQuery(
        pipeline=p.get("pipeline") or None, status=p.get("status") or None,
        since=parse_time("since", p.get("since"), now), until=parse_time("until", p.get("until"), now),
        tag=parse_pair("tag", p.get("tag")), param=parse_pair("param", p.get("param")),
        sort=p.get("sort") or "start", descending=order == "desc", limit=limit, after=p.get("after") or None,
    ).checked()


def _link(request: Request, **changes: str | None) -> str:
    params = {k: v for k, v in request.query_params.items() if k not in changes}
    params.update({k: v for k, v in changes.items() if v is not None})
    return "?" + urlencode(params)


def runs(ctx, request: Request):
    q = query_from(request)
    page = ctx.browser.runs_page(q)
    live = any(r.status in LIVE_STATUSES for r in page.runs) or (q.after is None and q.status in (None, *LIVE_STATUSES))
    return ctx.render(
        request, "runs.html", page=page, q=request.query_params, statuses=RUN_STATUSES,
        sorts=[*RUN_SORTS, *(f"metric:{m}" for m in ctx.browser.metric_names())],
        pipelines=ctx.browser.pipelines(), live=live,
        next_link=_link(request, after=page.next_cursor) if page.next_cursor else None,
        first_link=_link(request, after=None) if q.after else None,
        compare_link="/compare" + _link(request, after=None, limit="100"))


def _differs(values: list) -> bool:
    return len({json.dumps(v, sort_keys=True, default=str) for v in values}) > 1


def compare(ctx, request: Request):
    ids = request.query_params.getlist("run")
    if not ids:
        q = query_from(request, limit_default=100)
        ids = [r.run_id for r in ctx.browser.runs_page(q).runs]
    if len(ids) > COMPARE_MAX:
        raise ValueError(f"compare takes at most {COMPARE_MAX} runs, got {len(ids)}")
    facts = ctx.browser.run_facts(ids)
    show_all = request.query_params.get("all") == "1"
    params = sorted({k for f in facts for k in f.arguments})
    metric_names = sorted({k for f in facts for k in f.metrics})
    if not show_all:
        params = [k for k in params if _differs([f.arguments.get(k) for f in facts])]
        metric_names = [k for k in metric_names if _differs([f.metrics.get(k) for f in facts])]
    charts = [(m, xy_chart({m: [(i, f.metrics[m]) for i, f in enumerate(facts) if m in f.metrics]}, lines=False))
              for m in metric_names[:12]]
    numeric = [p for p in params if all(isinstance(f.arguments.get(p), int | float)
                                        and not isinstance(f.arguments.get(p), bool)
                                        for f in facts if p in f.arguments)]
    axes = (numeric + metric_names)[:8]
    rows = {f.run_id: {**{p: f.arguments[p] for p in numeric if p in f.arguments}, **f.metrics} for f in facts}
    return ctx.render(request, "compare.html", facts=facts, params=params, metric_names=metric_names,
                      show_all=show_all, charts=charts, parallel=parallel_coordinates(axes, rows) if len(axes) > 1
                      else None, toggle=_link(request, all=None if show_all else "1"))
