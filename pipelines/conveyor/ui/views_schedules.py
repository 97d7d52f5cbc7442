"""Schedules: every recurring run with its cron expression, last firing (metadata) and next firing.

The next firing is computed from the recorded cron expression in its timezone (croniter, which
reads the same 5-field and @daily-style syntax Argo's controller does); the last firing is the
newest run labelled `schedule=<name>`. A schedule whose runs exist but whose cron was never recorded
(made before the store kept schedules) is still listed, with no next firing rather than a guess.
"""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.requests import Request


def next_firing(cron: str, timezone: str | None, now: float) -> tuple[float | None, str | None]:
    """(epoch seconds of the next firing after `now`, None) or (None, why it cannot be computed)."""
    from croniter import CroniterError, croniter

    try:
        zone = ZoneInfo(timezone) if timezone else dt.UTC
    except (ZoneInfoNotFoundError, ValueError):
        return None, f"unknown timezone {timezone!r}"
    try:
        it = croniter(cron, dt.datetime.fromtimestamp(now, zone))
        return it.get_next(dt.datetime).timestamp(), None
    except (CroniterError, ValueError, KeyError) as exc:
        return None, f"cron {cron!r} cannot be evaluated here ({type(exc).__name__})"


def schedules(ctx, request: Request):
    now = time.time()
    recorded = {s.name: s for s in ctx.browser.schedules()}
    firings = ctx.browser.schedule_firings()
    rows = []
    for name in sorted(set(recorded) | set(firings)):
        record, fired = recorded.get(name), firings.get(name, [])
        upcoming, problem = (next_firing(record.cron, record.timezone, now) if record is not None
                             else (None, "cron not recorded (scheduled before the store kept schedules)"))
        rows.append({"name": name, "record": record, "pipeline": record.pipeline_name if record else
                     fired[0].pipeline_name, "last": fired[0] if fired else None, "firings": fired,
                     "next": upcoming, "problem": problem})
    return ctx.render(request, "schedules.html", schedules=rows)
