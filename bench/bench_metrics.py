"""Overhead the metrics add per task (issue 7 target: under 1 ms).

Times what the executor calls once per task — `task_finished` for an executed task with every
optional field, for a cached task, and a `retry` — on a RunMetrics whose pipeline has 50 distinct
tasks (so label lookups are realistic), and prints the median and p99 in microseconds. Delivery
(push/textfile) happens once per run, not per task; its time is printed separately for a textfile.

Run: .venv/bin/python bench/bench_metrics.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pipelines"))

from conveyor.metrics import RunMetrics  # noqa: E402

TASKS = [f"task_{i}" for i in range(50)]
ROUNDS = 20_000


def per_task(m: RunMetrics, i: int) -> None:
    task = TASKS[i % len(TASKS)]
    m.task_finished(
        task,
        "succeeded",
        12.5,
        peak_rss_mb=300.0,
        queue_wait_s=0.2,
        pool="gpu-a10g-spot",
        capacity="spot",
        cost_usd=0.01,
    )
    m.task_finished(task, cached=True, saved_s=30.0, saved_usd=0.001)
    m.retry(task, "preempted", pool="gpu-a10g-spot")


def main() -> None:
    m = RunMetrics("bench", instance="bench")
    m.run_started()
    for i in range(1000):  # warm up: create every label child
        per_task(m, i)
    samples = []
    for i in range(ROUNDS):
        t0 = time.perf_counter_ns()
        per_task(m, i)
        samples.append((time.perf_counter_ns() - t0) / 1000)
    samples.sort()
    median, p99 = statistics.median(samples), samples[int(len(samples) * 0.99)]
    print(f"per task (executed + cached + retry calls): median {median:.1f} us, p99 {p99:.1f} us, n={ROUNDS}")

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "conveyor.prom"
        times = []
        for _ in range(20):
            t0 = time.perf_counter()
            assert m.write_textfile(path)
            times.append((time.perf_counter() - t0) * 1000)
    print(f"per run delivery (textfile, 50 tasks): median {statistics.median(times):.2f} ms")
    print("target: per-task overhead < 1000 us:", "PASS" if median < 1000 else "FAIL")


if __name__ == "__main__":
    main()
