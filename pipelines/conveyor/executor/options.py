"""How a local run schedules: the knobs `conveyor run` exposes, shared by the scheduler and the runner."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SchedulerOptions:
    parallelism: int = 0  # 0: one per core
    use_cache: bool = True
    max_cache_staleness_s: float | None = None
    strict_resources: bool = False
    keep_workdirs: bool = False
    isolate: bool = False  # run components whose packages differ from this env in a uv-built venv
