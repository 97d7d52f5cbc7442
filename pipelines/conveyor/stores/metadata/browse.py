"""The read side the run explorer needs: summary columns only, keyset pages, filters in SQL.

Why a separate interface: `MetadataStore` serves the executor's hot path (whole records, one run at
a time); a UI over 10,000 runs must never load specs or outputs to draw a list, and must page by
key, not by OFFSET. `MetadataStore.browser()` returns the implementation for its backend.
"""

from __future__ import annotations

import abc
import base64
import json
from dataclasses import dataclass, field, replace
from typing import Any, Final

from conveyor.stores.metadata.api import RUN_STATUSES, ArtifactRecord, MetadataStoreError, ScheduleRecord
from conveyor.stores.metadata.timing import Timed

RUN_SORTS: Final = ("start", "duration", "cost")  # plus "metric:<name>"
PAGE_LIMIT_MAX: Final = 500
ERROR_PREVIEW_CHARS: Final = 300


@dataclass(frozen=True)
class RunQuery:
    """Filters and order of the runs list. `after` is the opaque cursor of the previous page."""

    pipeline: str | None = None
    status: str | None = None
    since: float | None = None  # created_at >= since
    until: float | None = None  # created_at < until
    tag: tuple[str, str] | None = None  # label key, value
    param: tuple[str, str] | None = None  # argument name, value as text (e.g. "0.1", "adam")
    sort: str = "start"  # one of RUN_SORTS or "metric:<name>"
    descending: bool = True
    limit: int = 50
    after: str | None = None

    def checked(self) -> RunQuery:
        if self.status is not None and self.status not in RUN_STATUSES:
            raise MetadataStoreError(f"run status {self.status!r} is not one of {', '.join(RUN_STATUSES)}")
        if self.sort not in RUN_SORTS and not (self.sort.startswith("metric:") and len(self.sort) > 7):
            raise MetadataStoreError(f"run sort {self.sort!r} is not one of {', '.join(RUN_SORTS)} or metric:NAME")
        if not 1 <= int(self.limit) <= PAGE_LIMIT_MAX:
            raise MetadataStoreError(f"page limit {self.limit!r} is not between 1 and {PAGE_LIMIT_MAX}")
        if self.after is not None:
            decode_cursor(self.after)
        return replace(self, limit=int(self.limit))


def encode_cursor(value: float, run_id: str) -> str:
    raw = json.dumps([value, run_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, run_id = json.loads(raw)
        return float(value), str(run_id)
    except (ValueError, TypeError) as exc:
        raise MetadataStoreError(f"page cursor {cursor[:80]!r} is not one this server issued ({exc})") from None


@dataclass(frozen=True)
class RunSummary(Timed):
    run_id: str
    pipeline_name: str
    status: str
    profile_name: str
    labels: dict[str, str]
    error: str | None  # the first ERROR_PREVIEW_CHARS characters
    created_at: float
    started_at: float | None
    ended_at: float | None
    cost_usd: float
    sort_value: float | None
    task_counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RunPage:
    runs: list[RunSummary]
    next_cursor: str | None
    total: int  # runs matching the filters, all pages


@dataclass(frozen=True)
class TaskSummary:
    task_id: str
    task_name: str
    status: str
    started_at: float | None
    ended_at: float | None
    duration_s: float | None
    cost_usd: float | None
    saved_s: float | None
    cached_from_run: str | None
    cached_from_task: str | None
    error: str | None  # preview only
    updated_at: float


@dataclass(frozen=True)
class RunFacts:
    """What Compare shows per run: its arguments and metrics (max per name over its tasks)."""

    run_id: str
    pipeline_name: str
    status: str
    arguments: dict[str, Any]
    metrics: dict[str, float]


class RunBrowser(abc.ABC):
    @abc.abstractmethod
    def runs_page(self, query: RunQuery) -> RunPage:
        """One page of run summaries, with the cursor of the next page (None on the last)."""

    @abc.abstractmethod
    def task_summaries(self, run_id: str) -> list[TaskSummary]:
        """Every task instance of the run, summary columns only, in creation order."""

    @abc.abstractmethod
    def run_facts(self, run_ids: list[str]) -> list[RunFacts]:
        """Arguments and metrics of these runs, in the order given (unknown ids are left out)."""

    @abc.abstractmethod
    def pipelines(self) -> list[str]:
        """Distinct pipeline names, for the filter menu."""

    @abc.abstractmethod
    def metric_names(self, limit: int = 200) -> list[str]:
        """Distinct metric names, for the sort menu."""

    @abc.abstractmethod
    def get_artifact(self, artifact_id: int) -> ArtifactRecord:
        """Raises NotFoundError if absent."""

    @abc.abstractmethod
    def task_artifacts(self, run_id: str, task_id: str) -> list[ArtifactRecord]:
        """Artifacts the task produced (outputs and persisted logs), by the unique producer index."""

    @abc.abstractmethod
    def schedules(self) -> list[ScheduleRecord]:
        """The recorded schedules, by name."""

    @abc.abstractmethod
    def schedule_firings(self, label: str = "schedule", per_schedule: int = 20) -> dict[str, list[RunSummary]]:
        """Runs carrying `label`, grouped by its value, newest first, at most `per_schedule` each."""
