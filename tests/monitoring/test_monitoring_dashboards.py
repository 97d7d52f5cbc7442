"""Grafana dashboards: well-formed JSON the monitoring component can ship as ConfigMaps, and every
PromQL expression in them parsed by Prometheus's own parser (promtool check rules on a generated
rule file, after Grafana's variables are substituted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.monitoring.assets import check_exprs_parse, dashboard_exprs, dashboards, grafana_to_promql

# The topics issue 7 asks the dashboards to cover, by a metric that shows each.
REQUIRED_TOPICS = {
    "pipeline runs": "conveyor_runs_finished_total",
    "durations": "conveyor_run_duration_seconds_bucket",
    "cache hit ratio": "conveyor_cache_hits_total",
    "hours saved": "conveyor_cache_saved_seconds_total",
    "GPU utilisation by pool and capacity": "pool_capacity:dcgm_gpu_utilisation:avg",
    "spot interruptions": 'reason="preempted"',
    "cost": "conveyor_task_cost_dollars_total",
}


@pytest.mark.parametrize("path", dashboards(), ids=lambda p: p.name)
def test_dashboard_is_well_formed(path: Path):
    dash = json.loads(path.read_text())
    assert dash["uid"] == path.stem and dash["title"].startswith("Conveyor / ")
    panels = [p for p in dash["panels"] if p["type"] != "row"]
    assert panels, "a dashboard without panels"
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids)), "duplicate panel ids"
    for panel in panels:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], f"{panel['title']}: no queries"
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        g = panel["gridPos"]
        assert g["x"] >= 0 and g["x"] + g["w"] <= 24, f"{panel['title']}: outside the 24-column grid"


def test_dashboard_uids_are_unique():
    uids = [json.loads(p.read_text())["uid"] for p in dashboards()]
    assert len(uids) == len(set(uids))


def test_every_dashboard_expression_parses(tmp_path: Path):
    exprs = [e for path in dashboards() for e in dashboard_exprs(path)]
    assert len(exprs) > 30, "fewer expressions than the dashboards hold: extraction is broken"
    result = check_exprs_parse(exprs, tmp_path)
    assert result.returncode == 0, "\n".join(
        [result.stdout, result.stderr, *(f"{i}: {w}" for i, (w, _) in enumerate(exprs))]
    )


def test_the_parse_check_rejects_a_broken_expression(tmp_path: Path):
    """The check above must be able to fail: an unbalanced expression is reported."""
    result = check_exprs_parse(
        [("bad", 'sum(rate(conveyor_runs_started_total{pipeline=~"$pipeline"}[5m])')], tmp_path
    )
    assert result.returncode != 0


def test_grafana_variables_become_promql():
    expr = 'rate(x{pipeline=~"$pipeline",pool=~"${pool}"}[$__rate_interval]) / increase(y[$__range])'
    assert grafana_to_promql(expr) == 'rate(x{pipeline=~".*",pool=~".*"}[5m]) / increase(y[1h])'


def test_dashboards_cover_every_topic_of_the_issue():
    text = "\n".join(e for path in dashboards() for _, e in dashboard_exprs(path))
    missing = [topic for topic, needle in REQUIRED_TOPICS.items() if needle not in text]
    assert not missing, f"no dashboard shows: {missing}"
