"""Helpers shared by the monitoring tests: where the assets are, running promtool, reading them.

promtool comes from the Debian `prometheus` package; without it the tests skip with the reason,
or fail under CONVEYOR_REQUIRE_SERVICES=1 (policy in tests/services/common.py).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import yaml

from tests.services.prometheus import promtool_path

REPO = Path(__file__).resolve().parents[2]
ASSETS = REPO / "components" / "assets" / "monitoring"
RULES_DIR, TESTS_DIR, DASHBOARDS_DIR = ASSETS / "rules", ASSETS / "tests", ASSETS / "dashboards"
DOCS = REPO / "docs" / "monitoring.md"

# The alerts issue 7 asks for, and nothing may silently drop one.
REQUIRED_ALERTS = {
    "PipelineSuccessRateLow",
    "PipelineFailureSpike",
    "GPUIdle",
    "GPUPodsPending",
    "SpotInterruptionsHigh",
    "ArgoControllerDown",
    "ArgoWorkflowErrors",
    "MetadataDBUnreachable",
    "CacheHitRatioDropped",
}
SEVERITIES = {"critical", "warning", "info"}

# Grafana's built-in interval variables; every other $var is a label-value selector.
_DURATION_VARS = {"__rate_interval": "5m", "__interval": "1m", "__range": "1h"}


def run_promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool_path(), *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def rule_files() -> list[Path]:
    """What components/monitoring.py deploys: exactly rules/*.yaml."""
    return sorted(RULES_DIR.glob("*.yaml"))


def unit_test_files() -> list[Path]:
    return sorted(TESTS_DIR.glob("*.yaml"))


def dashboards() -> list[Path]:
    return sorted(DASHBOARDS_DIR.glob("*.json"))


def alerts() -> Iterator[tuple[Path, dict]]:
    for path in rule_files():
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    yield path, rule


def recording_names() -> set[str]:
    return {
        rule["record"]
        for path in rule_files()
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "record" in rule
    }


def grafana_to_promql(expr: str) -> str:
    """Replace Grafana variables so the expression is plain PromQL: intervals by durations,
    label-value variables (used inside =~"…") by a match-anything regex."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        return _DURATION_VARS.get(name, ".*")

    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", sub, expr)


def dashboard_exprs(path: Path) -> Iterator[tuple[str, str]]:
    """(where, expr) for every panel target and templating query of a dashboard."""
    dash = json.loads(path.read_text())

    def walk(panels: list[dict]) -> Iterator[tuple[str, str]]:
        for panel in panels:
            for target in panel.get("targets", []):
                if target.get("expr"):
                    yield f"{path.name}: panel {panel['title']!r} target {target['refId']}", target["expr"]
            yield from walk(panel.get("panels", []))

    yield from walk(dash.get("panels", []))
    for var in dash.get("templating", {}).get("list", []):
        query = var.get("query")
        query = query.get("query") if isinstance(query, dict) else query
        m = re.fullmatch(r"label_values\((.+),\s*\w+\)", query or "")
        if var.get("type") == "query" and m:
            # Grafana's label_values(selector, label): the selector must be PromQL.
            yield f"{path.name}: variable {var['name']!r}", m.group(1)


def check_exprs_parse(exprs: list[tuple[str, str]], workdir: Path) -> subprocess.CompletedProcess[str]:
    """Parse expressions with Prometheus's own parser: as recording rules under promtool check."""
    rules = [
        {"record": f"dashboard:expr_{i}", "expr": grafana_to_promql(e)} for i, (_, e) in enumerate(exprs)
    ]
    path = workdir / "dashboard-exprs.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard-exprs", "rules": rules}]}))
    return run_promtool("check", "rules", str(path))
