"""The run report: the one value every notifier renders.

The executor (local) and the exit-handler component (Argo) both build a
:class:`RunReport`; the notifiers only format it. Keeping the report a plain,
JSON-serialisable dataclass means the generic webhook payload *is* the report,
with a versioned schema receivers can validate against.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from conveyor.notify.secrets import redact

SCHEMA_ID = "conveyor.run-report/v1"

# Errors can be whole tracebacks; a notification needs the gist.
MAX_ERROR_CHARS = 1500

_STATUS_ALIASES = {
    "succeeded": "succeeded",
    "success": "succeeded",
    "successful": "succeeded",
    "failed": "failed",
    "failure": "failed",
    "error": "failed",
    "errored": "failed",
    "canceled": "cancelled",
    "cancelled": "cancelled",
    "running": "running",
}


def normalize_status(status: str) -> str:
    """Map KFP (``SUCCEEDED``), Argo (``Succeeded``, ``Error``) and local spellings onto one vocabulary."""
    key = str(status).strip().lower()
    return _STATUS_ALIASES.get(key, key or "unknown")


@dataclass(frozen=True)
class RunReport:
    """What happened in one run, as far as a human being paged about it cares."""

    run_id: str
    pipeline: str
    status: str
    duration_s: float | None = None
    failed_task: str | None = None
    error: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    cached_count: int = 0
    total_count: int = 0
    cost_usd: float | None = None
    saved_usd: float | None = None
    url: str | None = None
    message: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", normalize_status(self.status))
        if self.error is not None:
            err = redact(self.error)
            if len(err) > MAX_ERROR_CHARS:
                err = err[: MAX_ERROR_CHARS - 15] + " …(truncated)"
            object.__setattr__(self, "error", err)
        if self.message is not None:
            object.__setattr__(self, "message", redact(self.message))
        clean: dict[str, float] = {}
        for name, value in (self.metrics or {}).items():
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue
            if math.isfinite(number):
                clean[str(name)] = number
        object.__setattr__(self, "metrics", clean)

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    def to_dict(self) -> dict[str, Any]:
        """The generic webhook payload: the report plus its schema id and a one-line summary."""
        body = asdict(self)
        body["schema"] = SCHEMA_ID
        body["text"] = summary_line(self)
        return body


def format_duration(seconds: float | None) -> str:
    """``3725.2`` → ``1h 2m 5s``; short runs keep a decimal (``4.2s``)."""
    if seconds is None:
        return "n/a"
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m {secs}s"
    return f"{minutes}m {secs}s"


def format_metric(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}"


def summary_line(report: RunReport) -> str:
    """A plain-text one-liner, used as Slack's notification fallback and the generic ``text``."""
    parts = [
        f"{report.pipeline} {report.status}",
        f"run {report.run_id}",
        f"in {format_duration(report.duration_s)}",
    ]
    if report.failed_task:
        parts.append(f"failed task {report.failed_task}")
    if report.total_count:
        parts.append(f"{report.cached_count}/{report.total_count} cached")
    return ", ".join(parts)


def run_report_json_schema() -> dict[str, Any]:
    """JSON Schema for :meth:`RunReport.to_dict`, published so webhook receivers can validate."""
    number_or_null = {"type": ["number", "null"]}
    string_or_null = {"type": ["string", "null"]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "type": "object",
        "required": [
            "schema",
            "run_id",
            "pipeline",
            "status",
            "text",
            "metrics",
            "cached_count",
            "total_count",
        ],
        "additionalProperties": False,
        "properties": {
            "schema": {"const": SCHEMA_ID},
            "run_id": {"type": "string", "minLength": 1},
            "pipeline": {"type": "string", "minLength": 1},
            "status": {"type": "string", "minLength": 1},
            "text": {"type": "string"},
            "duration_s": {"type": ["number", "null"], "minimum": 0},
            "failed_task": string_or_null,
            "error": string_or_null,
            "metrics": {"type": "object", "additionalProperties": {"type": "number"}},
            "cached_count": {"type": "integer", "minimum": 0},
            "total_count": {"type": "integer", "minimum": 0},
            "cost_usd": number_or_null,
            "saved_usd": number_or_null,
            "url": string_or_null,
            "message": string_or_null,
        },
    }
