"""The alert rules: promtool accepts them, their unit tests pass, and those tests have teeth.

"Teeth" is checked by mutation: for each alert, a copy of its rule file where the alert never
fires must fail the promtool tests (so some test expects it to fire), and a copy where it fires
for every label set present in the inputs must fail too (so some input series must stay silent).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from conveyor.metrics import metric_names
from tests.monitoring.assets import (
    DASHBOARDS_DIR,
    DOCS,
    REQUIRED_ALERTS,
    RULES_DIR,
    SEVERITIES,
    TESTS_DIR,
    alerts,
    recording_names,
    rule_files,
    run_promtool,
    unit_test_files,
)


@pytest.mark.parametrize("path", rule_files(), ids=lambda p: p.name)
def test_promtool_check_rules_accepts_each_rule_file(path: Path):
    result = run_promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", unit_test_files(), ids=lambda p: p.name)
def test_promtool_unit_tests_pass(path: Path):
    result = run_promtool("test", "rules", path.name, cwd=TESTS_DIR)
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_files_hold_only_rule_groups_and_tests_live_outside_the_glob():
    for path in rule_files():
        doc = yaml.safe_load(path.read_text())
        assert set(doc) == {"groups"}, f"{path.name}: a deployed rule file must hold only `groups`"
    for path in unit_test_files():
        assert "rule_files" in yaml.safe_load(path.read_text()), path.name
    assert not list(RULES_DIR.glob("*test*")), "unit tests must not sit in rules/ (they would be deployed)"


def test_every_required_alert_is_defined_once_with_severity_and_annotations():
    names = [rule["alert"] for _, rule in alerts()]
    assert sorted(set(names)) == sorted(names), "an alert name is defined twice"
    assert set(names) >= REQUIRED_ALERTS, f"missing: {REQUIRED_ALERTS - set(names)}"
    for path, rule in alerts():
        where = f"{path.name}: {rule['alert']}"
        assert rule.get("labels", {}).get("severity") in SEVERITIES, where
        for key in ("summary", "description", "runbook"):
            assert rule.get("annotations", {}).get(key), f"{where}: annotation {key} is missing"


def test_every_runbook_points_at_a_section_of_docs_monitoring():
    docs = DOCS.read_text()
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", h.lower()).strip().replace(" ", "-")
        for h in re.findall(r"^#+ (.+)$", docs, re.M)
    }
    for _, rule in alerts():
        runbook = rule["annotations"]["runbook"]
        assert runbook.startswith("docs/monitoring.md#"), runbook
        assert runbook.split("#", 1)[1] in anchors, f"{rule['alert']}: no heading for {runbook} in {DOCS}"


def test_every_conveyor_metric_the_rules_and_dashboards_use_is_emitted_by_the_runtime():
    emitted, recorded = metric_names(), recording_names()
    texts = [p.read_text() for p in [*rule_files(), *DASHBOARDS_DIR.glob("*.json")]]
    used = {n for t in texts for n in re.findall(r"(?<![\w:])conveyor_[a-z0-9_]+(?![\w:])", t)}
    assert used, "no conveyor_ metric found: the regex or the assets are broken"
    assert used <= emitted, f"used but never emitted: {sorted(used - emitted)}"
    used_recordings = {n for t in texts for n in re.findall(r"\b[a-z_]+:[a-z0-9_]+:[a-z0-9_]+\b", t)}
    assert used_recordings <= recorded, f"recording rules used but not defined: {used_recordings - recorded}"


# -- mutation: the unit tests must notice an alert that never fires or always fires ------------


def _tests_for(alert: str) -> list[Path]:
    return [p for p in unit_test_files() if re.search(rf"alertname:\s*{alert}\b", p.read_text())]


def _grouping_labels(alert: str) -> list[str]:
    labels: set[str] = set()
    for path in _tests_for(alert):
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                if check["alertname"] == alert:
                    for exp in check.get("exp_alerts", []):
                        labels |= set(exp.get("exp_labels", {})) - {"severity"}
    return sorted(labels)


def _run_mutated(tmp_path: Path, alert: str, expr: str) -> str:
    """Copy rules/ and tests/ to tmp_path with `alert`'s expr replaced; return promtool's output."""
    rules, tests = tmp_path / "rules", tmp_path / "tests"
    shutil.copytree(RULES_DIR, rules)
    shutil.copytree(TESTS_DIR, tests)
    for path in rules.glob("*.yaml"):
        doc = yaml.safe_load(path.read_text())
        for group in doc["groups"]:
            for rule in group["rules"]:
                if rule.get("alert") == alert:
                    rule["expr"] = expr
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
    result = run_promtool("test", "rules", *(p.name for p in _tests_for(alert)), cwd=tests)
    assert "could not" not in result.stdout + result.stderr, result.stdout + result.stderr
    return result.stdout + result.stderr if result.returncode != 0 else ""


@pytest.mark.parametrize("alert", sorted(REQUIRED_ALERTS))
def test_unit_tests_fail_when_the_alert_never_fires(alert: str, tmp_path: Path):
    assert _tests_for(alert), f"no promtool unit test mentions {alert}"
    output = _run_mutated(tmp_path, alert, "vector(1) > 2")
    assert "FAILED" in output, f"{alert}: the unit tests still pass when it can never fire"


@pytest.mark.parametrize("alert", sorted(REQUIRED_ALERTS))
def test_unit_tests_fail_when_the_alert_fires_for_every_input(alert: str, tmp_path: Path):
    labels = ", ".join(_grouping_labels(alert))
    output = _run_mutated(tmp_path, alert, f'group by ({labels}) ({{__name__=~".+"}})')
    assert "FAILED" in output, f"{alert}: no input series is expected to stay silent"
