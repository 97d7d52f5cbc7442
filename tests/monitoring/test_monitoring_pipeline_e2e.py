"""A real pipeline run with --pushgateway, read back from a real Prometheus scraping the gateway.

The unit-level e2e tests push simulated runs; this one proves the executor itself calls the
metrics module with the right values: runs, task durations, cache hits and retries by reason.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PIPE = """
from conveyor import dsl

@dsl.component
def prep(n: int) -> int:
    return n * 2

@dsl.component
def flaky(x: int, marker: str) -> int:
    import os
    if not os.path.exists(marker):
        open(marker, "w").write("1")
        raise dsl.TransientError("first attempt fails")
    return x + 1

@dsl.pipeline(name="{name}")
def monitored(n: int = 3, marker: str = "marker") -> int:
    p = prep(n=n)
    return flaky(x=p.output, marker=marker).set_retry(2, backoff_duration="0.01s").output
"""


@pytest.mark.services
def test_pipeline_metrics_reach_prometheus(tmp_path, pushgateway_server, prometheus_server):
    name = f"mon-e2e-{os.getpid()}"
    path = tmp_path / "monitored.py"
    path.write_text(PIPE.replace("{name}", name))
    env = {**os.environ, "CONVEYOR_HOME": str(tmp_path / "home"), "CONVEYOR_METRICS_INSTANCE": "e2e"}

    def run() -> None:
        proc = subprocess.run([sys.executable, "-m", "conveyor", "run", str(path), "--json",
                               "-p", f"marker={tmp_path / 'marker'}", "--pushgateway", pushgateway_server.url],
                              env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr

    run()
    sel = f'pipeline="{name}"'
    prometheus_server.wait_value(f'conveyor_runs_finished_total{{{sel},status="succeeded"}}', 1)
    prometheus_server.wait_value(f'conveyor_task_duration_seconds_count{{{sel},task="prep",status="succeeded"}}', 1)
    prometheus_server.wait_value(f'conveyor_task_retries_total{{{sel},task="flaky",reason="transient"}}', 1)
    prometheus_server.wait_value(f'conveyor_cache_misses_total{{{sel},task="prep"}}', 1)
    prometheus_server.wait_value(f'conveyor_task_queue_wait_seconds_count{{{sel}}}', 2)
    run()  # fully cached: hits count, and the runs counter accumulates across processes
    prometheus_server.wait_value(f'conveyor_runs_finished_total{{{sel},status="succeeded"}}', 2)
    prometheus_server.wait_value(f'conveyor_cache_hits_total{{{sel},task="flaky"}}', 1)
    saved = prometheus_server.poll(f'conveyor_cache_saved_seconds_total{{{sel}}} > 0')
    assert saved, "the cache hits should have recorded seconds saved"
