"""Template filters: times, durations, money, and redaction of every value a page prints.

Redaction is the templates' `finalize`: whatever `{{ value }}` prints goes through
notify.secrets.redact first (registered secrets, webhook paths, user:password@ in URLs, token=
query parameters), then Jinja's autoescape. No template can forget either.
"""

from __future__ import annotations

import json
import time
from typing import Any

from markupsafe import Markup

from conveyor.notify.secrets import redact


def finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Markup):  # already-escaped HTML (markdown, tojson): masking keeps it safe
        return Markup(redact(str(value)))
    if isinstance(value, str):
        return redact(value)
    return value


def ts(value: float | None) -> str:
    if value is None:
        return "–"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(value))


def dur(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def usd(value: float | None) -> str:
    if value is None:
        return "–"
    if 0 < value < 0.0001:
        return "< $0.0001"
    return f"${value:.4f}"


def num(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return jsonish(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.6g}"


def jsonish(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[:limit] + "…"


def mib(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} MiB"


FILTERS = {"ts": ts, "dur": dur, "usd": usd, "num": num, "jsonish": jsonish, "mib": mib}
