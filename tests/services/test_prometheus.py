"""Smoke tests proving Pushgateway, Prometheus and promtool: push a metric, query it back."""

import subprocess
import uuid

import pytest
from prometheus_client import CollectorRegistry, Gauge, push_to_gateway

pytestmark = pytest.mark.services


def test_push_to_gateway_then_query_from_prometheus(pushgateway_server, prometheus_server):
    run_id = uuid.uuid4().hex[:8]
    registry = CollectorRegistry()
    gauge = Gauge("conveyor_smoke_value", "smoke test gauge", ["run_id"], registry=registry)
    gauge.labels(run_id=run_id).set(42.5)
    push_to_gateway(pushgateway_server.url, job="smoke", registry=registry)

    assert f'conveyor_smoke_value{{instance="",job="smoke",run_id="{run_id}"}} 42.5' in (
        pushgateway_server.metrics_text()
    )
    [sample] = prometheus_server.poll(f'conveyor_smoke_value{{run_id="{run_id}"}}', timeout=20)
    assert sample["metric"]["job"] == "smoke"  # honor_labels kept the pushed job label
    assert float(sample["value"][1]) == 42.5


def test_prometheus_scrapes_the_gateway(prometheus_server, pushgateway_server):
    prometheus_server.poll("up{job='pushgateway'} == 1", timeout=15)
    [target] = prometheus_server.targets()
    assert target["scrapePool"] == "pushgateway"
    assert target["health"] == "up"


def test_wipe_empties_the_gateway(pushgateway_server):
    registry = CollectorRegistry()
    Gauge("conveyor_wipe_me", "to be wiped", registry=registry).set(1)
    push_to_gateway(pushgateway_server.url, job="wipe", registry=registry)
    assert "conveyor_wipe_me" in pushgateway_server.metrics_text()
    pushgateway_server.wipe()
    assert "conveyor_wipe_me" not in pushgateway_server.metrics_text()


def test_promtool_runs(promtool, tmp_path):
    out = subprocess.run([promtool, "--version"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0
    assert "promtool" in (out.stdout + out.stderr)
    rules = tmp_path / "rules.yaml"
    rules.write_text("groups:\n  - name: smoke\n    rules:\n      - record: x\n        expr: vector(1)\n")
    assert subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True).returncode == 0
    rules.write_text("groups:\n  - name: smoke\n    rules:\n      - record: x\n        expr: vector(\n")
    assert subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True).returncode != 0
