"""End to end: RunMetrics → real Pushgateway → real Prometheus scrape → HTTP API query.

Two simulated runs of one pipeline, each a fresh RunMetrics (as two `conveyor run` processes
would be), so the test also proves the merge: counters keep growing across processes instead of
being overwritten, which is what every `increase()` in the alert rules relies on.

The servers are the session's (tests/services/prometheus.py); this module empties the gateway
once before its tests, since the merge assertions count from zero, and every test pushes its own
pipeline name.
"""

from __future__ import annotations

import time

import pytest

from conveyor.metrics import RunMetrics

pytestmark = pytest.mark.services


@pytest.fixture(scope="module", autouse=True)
def _empty_gateway(pushgateway_server):
    """Wipe the session's gateway once for this module: the merge tests count from zero."""
    pushgateway_server.wipe()

PIPE = "e2e-demo"


def simulated_run(gateway_url: str, *, fail_train: bool) -> RunMetrics:
    m = RunMetrics(PIPE, instance="ci-runner")
    m.run_started()
    m.task_finished("prep", cached=True, saved_s=40.0, saved_usd=0.002)
    m.task_finished(
        "train",
        "failed" if fail_train else "succeeded",
        12.0,
        peak_rss_mb=300,
        queue_wait_s=0.3,
        pool="gpu-a10g-spot",
        capacity="spot",
        cost_usd=0.0035,
    )
    if fail_train:
        m.retry("train", "preempted", pool="gpu-a10g-spot")
    m.run_finished("failed" if fail_train else "succeeded", duration_s=20.0)
    assert m.push(gateway_url, timeout=5) is True
    return m


def test_counters_and_histograms_reach_prometheus_and_accumulate_across_runs(pushgateway_server, prometheus_server):
    simulated_run(pushgateway_server.url, fail_train=False)
    sel = f'pipeline="{PIPE}",instance="ci-runner",job="conveyor"'
    prometheus_server.wait_value(f"conveyor_runs_started_total{{{sel}}}", 1)
    prometheus_server.wait_value(f'conveyor_runs_finished_total{{{sel},status="succeeded"}}', 1)
    prometheus_server.wait_value(f'conveyor_task_duration_seconds_count{{{sel},task="train"}}', 1)
    prometheus_server.wait_value(f'conveyor_task_duration_seconds_sum{{{sel},task="train"}}', 12.0)
    prometheus_server.wait_value(f'conveyor_task_duration_seconds_bucket{{{sel},task="train",le="15"}}', 1)
    prometheus_server.wait_value(f'conveyor_task_duration_seconds_bucket{{{sel},task="train",le="5"}}', 0)
    prometheus_server.wait_value(f'conveyor_cache_hits_total{{{sel},task="prep"}}', 1)
    prometheus_server.wait_value(f"conveyor_cache_saved_seconds_total{{{sel}}}", 40.0)

    simulated_run(pushgateway_server.url, fail_train=True)
    prometheus_server.wait_value(f"conveyor_runs_started_total{{{sel}}}", 2)
    prometheus_server.wait_value(f'conveyor_runs_finished_total{{{sel},status="succeeded"}}', 1)
    prometheus_server.wait_value(f'conveyor_runs_finished_total{{{sel},status="failed"}}', 1)
    prometheus_server.wait_value(f'sum(conveyor_task_duration_seconds_count{{{sel},task="train"}})', 2)
    prometheus_server.wait_value(f"conveyor_cache_saved_seconds_total{{{sel}}}", 80.0)
    prometheus_server.wait_value(f'conveyor_task_retries_total{{{sel},reason="preempted"}}', 1)
    prometheus_server.wait_value(f'conveyor_task_cost_dollars_total{{{sel},pool="gpu-a10g-spot"}}', 0.007)
    prometheus_server.wait_value(
        f'conveyor_task_peak_memory_bytes_bucket{{{sel},task="train",le="5.36870912e+08"}}', 2
    )
    # The quantile the dashboards plot is computable from what was pushed.
    p50 = (
        f'histogram_quantile(0.5, sum by (le) (conveyor_task_duration_seconds_bucket{{{sel},task="train"}}))'
    )
    prometheus_server.wait_value(p50, 10.0)


def test_a_second_push_from_the_same_process_does_not_double_count(pushgateway_server, prometheus_server):
    m = RunMetrics("e2e-repush", instance="ci-runner")
    m.run_started()
    assert m.push(pushgateway_server.url)
    m.task_finished("a", "succeeded", 1.0)
    assert m.push(pushgateway_server.url)
    assert m.push(pushgateway_server.url)
    sel = 'pipeline="e2e-repush"'
    prometheus_server.wait_value(f"conveyor_runs_started_total{{{sel}}}", 1)
    prometheus_server.wait_value(f'conveyor_cache_misses_total{{{sel},task="a"}}', 1)


def test_push_to_a_dead_gateway_warns_counts_and_is_reported_by_the_next_push(
    pushgateway_server, prometheus_server, caplog
):
    from tests.services.common import free_port

    m = RunMetrics("e2e-deadgw", instance="ci-runner")
    m.run_started()
    dead = f"http://127.0.0.1:{free_port()}"
    assert m.push(dead, timeout=0.5) is False
    assert "delivery to Pushgateway" in caplog.text
    assert m.push(pushgateway_server.url) is True
    sel = 'pipeline="e2e-deadgw"'
    prometheus_server.wait_value(f"conveyor_metrics_push_failures_total{{{sel}}}", 1)
    prometheus_server.wait_value(f"conveyor_runs_started_total{{{sel}}}", 1)


def test_pipeline_names_with_slashes_and_quotes_merge_into_their_own_group(pushgateway_server, prometheus_server):
    """The grouping key goes into the URL (base64 for '/') and the merge reads it back escaped."""
    name = 'team/a "quoted"'
    for _ in range(2):
        m = RunMetrics(name, instance="ci-runner")
        m.run_started()
        assert m.push(pushgateway_server.url)
    prometheus_server.wait_value('conveyor_runs_started_total{pipeline="team/a \\"quoted\\""}', 2)


def test_the_real_server_loads_every_rule_and_a_pushed_failure_raises_metadata_db_unreachable(
    pushgateway_server, prometheus_server
):
    """Runtime metric → Pushgateway → Prometheus rule evaluation → alert (pending: `for` is 1m)."""
    groups = prometheus_server.get("/api/v1/rules")["groups"]
    assert {g["name"] for g in groups} >= {
        "conveyor-pipelines",
        "conveyor-gpu",
        "conveyor-argo",
        "conveyor-cache",
    }
    m = RunMetrics("e2e-dbdown", instance="ci-runner")
    m.metadata_push(ok=True)
    m.metadata_push(ok=False)
    assert m.push(pushgateway_server.url)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        alerts = prometheus_server.get("/api/v1/alerts")["alerts"]
        mine = [a for a in alerts if a["labels"].get("pipeline") == "e2e-dbdown"]
        if mine:
            assert mine[0]["labels"]["alertname"] == "MetadataDBUnreachable"
            assert mine[0]["state"] in {"pending", "firing"}
            break
        time.sleep(0.25)
    else:
        pytest.fail(f"MetadataDBUnreachable never became pending; alerts: {alerts}")
    unhealthy = [
        r["name"]
        for g in prometheus_server.get("/api/v1/rules")["groups"]
        for r in g["rules"]
        if r["health"] == "err"
    ]
    assert not unhealthy, f"rules failing to evaluate: {unhealthy}"
