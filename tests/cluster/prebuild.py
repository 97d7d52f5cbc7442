"""``python -m tests.cluster prebuild``: every build ``make e2e`` needs, ahead of time.

Why: a cold ``.ci/run`` spends ~26 min compiling Go on 2 cores, and the test stages use under a
third of the CPU (``make test`` waits on services, the e2e tests wait on pods). CI starts this in
the background, niced, at the top of the run, so the builds overlap ``make test`` and then the
first e2e tests. Every build takes the same per-component lock its fixture takes, so a stage that
needs a part still being built waits for it instead of building it twice; a failure here is raised
again, with its step and log, by the fixture that needs the part.

Order is by first use: Argo (``make test``'s ``argo lint``), the cluster (the e2e session), the
Pulumi engine (the last e2e module). The task image is mostly downloads and disk, so it runs
beside the Go builds instead of after them.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.cluster import argo_build, harness, images, pulumi_build


def _timed(name: str, fn: Callable[[], Any], seconds: dict[str, float]) -> None:
    t0 = time.monotonic()
    fn()
    seconds[name] = round(time.monotonic() - t0, 1)


def _go(seconds: dict[str, float]) -> None:
    _timed("argo", argo_build.build, seconds)
    _timed("cluster", lambda: (harness.build_all(), images.pause_archive(), images.busybox_archive()), seconds)
    _timed("pulumi", pulumi_build.engine, seconds)


def _task_image(seconds: dict[str, float]) -> None:
    from tests.cluster import platform

    _timed("task_image", lambda: platform.build_task_image(platform.task_image_ref()), seconds)


def main() -> int:
    seconds: dict[str, float] = {}
    failed = []
    with ThreadPoolExecutor(2) as pool:
        jobs = {"go builds": pool.submit(_go, seconds), "task image": pool.submit(_task_image, seconds)}
        for name, job in jobs.items():
            exc = job.exception()
            if exc is not None:
                failed.append(f"{name}: {type(exc).__name__}: {exc}")
    print(json.dumps({"seconds": seconds, "failed": failed}, indent=2), flush=True)
    for line in failed:
        print(f"error: prebuild {line}", file=sys.stderr)
    return 1 if failed else 0
