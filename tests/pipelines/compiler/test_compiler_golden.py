"""Every DSL feature compiled, schema-validated and compared with its golden YAML.

The golden files under ``golden/`` double as documentation of the mapping.
Regenerate them after an intended change with ``CONVEYOR_UPDATE_GOLDEN=1 pytest tests/pipelines/compiler``
and review the diff.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from conveyor.compiler.argo import compile_cron_workflow, compile_workflow, to_yaml
from tests.pipelines.compiler.feature_pipelines import FEATURES

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("CONVEYOR_UPDATE_GOLDEN") == "1"


def _compare(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.yaml"
    if UPDATE:
        path.write_text(text)
        return
    assert path.exists(), f"no golden file {path.name}; run with CONVEYOR_UPDATE_GOLDEN=1 to create it"
    expected = path.read_text()
    if text != expected:
        diff = "".join(
            difflib.unified_diff(expected.splitlines(True), text.splitlines(True), "golden", "compiled")
        )
        pytest.fail(f"{path.name} differs from the compiled manifest:\n{diff[:4000]}")


@pytest.mark.parametrize("name", sorted(FEATURES))
def test_feature_compiles_to_schema_valid_golden_yaml(name, profile, options, argo_schema):
    manifest = compile_workflow(FEATURES[name].pipeline_spec, profile, options)
    argo_schema.check(manifest)
    text = to_yaml(manifest)
    assert yaml.safe_load(text) == manifest  # the YAML is a faithful rendering
    _compare(name, text)


def test_cron_workflow_golden(profile, options, argo_schema):
    per_run = replace(options, run_id=None)  # every scheduled run gets its own id: {{workflow.name}}
    manifest = compile_cron_workflow(
        FEATURES["basic_dag"].pipeline_spec, "0 3 * * *", profile, per_run, timezone="Europe/Berlin"
    )
    argo_schema.check(manifest)
    _compare("cron_basic_dag", to_yaml(manifest))


def test_no_stale_golden_files():
    expected = {f"{n}.yaml" for n in FEATURES} | {"cron_basic_dag.yaml"}
    assert {p.name for p in GOLDEN.glob("*.yaml")} <= expected
