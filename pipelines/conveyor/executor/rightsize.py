"""Turn recorded peaks into requests and limits, so the next run asks for what it uses.

Requests get headroom over the observed peak (memory 20 %, rounded up to 64 MiB; cpu the average
cores used, rounded up to 100m), limits more (memory 50 %). One suggestion per task name: the
largest over its loop iterations and attempts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from conveyor.stores.metadata.api import AttemptRecord, MetadataStore

MIB = 1024 * 1024


@dataclass(frozen=True)
class Suggestion:
    task: str
    samples: int
    peak_rss_mb: float | None
    avg_cores: float | None
    memory_request: str | None
    memory_limit: str | None
    cpu_request: str | None
    cpu_limit: str | None

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _mebibytes(mb: float, factor: float) -> str:
    return f"{max(64, math.ceil(mb * factor / 64) * 64)}Mi"


def _millicores(cores: float) -> str:
    return f"{max(100, math.ceil(cores * 10) * 100)}m"


def advise(task: str, attempts: list[AttemptRecord]) -> Suggestion:
    """The suggestion for one task name from its attempts (all loop iterations, all retries)."""
    peaks = [a.peak_rss_mb for a in attempts if a.peak_rss_mb]
    cores = [a.cpu_time_s / (a.ended_at - a.started_at) for a in attempts
             if a.cpu_time_s is not None and a.ended_at and a.ended_at > a.started_at]
    peak = max(peaks) if peaks else None
    core = max(cores) if cores else None
    return Suggestion(
        task, len(attempts), peak, core,
        _mebibytes(peak, 1.2) if peak else None, _mebibytes(peak, 1.5) if peak else None,
        _millicores(core) if core is not None else None,
        _millicores(max(core * 2, 1.0)) if core is not None else None,
    )


def rightsize(store: MetadataStore, run_id: str) -> list[Suggestion]:
    names = {task.task_id: task.task_name for task in store.list_tasks(run_id)}
    by_name: dict[str, list[AttemptRecord]] = {name: [] for name in names.values()}
    for attempt in store.list_attempts(run_id):
        by_name.setdefault(names.get(attempt.task_id, attempt.task_id), []).append(attempt)
    return [advise(name, attempts) for name, attempts in by_name.items()]
