"""Control flow inside a kfp-compiled pipeline.yaml: kfp compiles the fixture, conveyor loads the YAML
and runs it, and the run must equal conveyor running the fixture itself (same tasks skipped, same
outputs). The loaded If/ParallelFor/ExitHandler pipeline also compiles to a schema-valid Workflow."""

from __future__ import annotations

import pytest

from conveyor import components
from conveyor.compiler.argo import CompileOptions, compile_workflow
from conveyor.components.errors import ComponentSpecError
from conveyor.runtime.loader import find_pipeline
from tests.pipelines.kfp.compat import compile_with_kfp, fixture, only_imports_mention_conveyor

FIXTURE = fixture("control_flow.py")
TEST_IMAGE = "conveyor.local/conveyor-task:test"


def _summary(result) -> tuple[str, dict, list]:
    counts: dict[str, int] = {}
    for t in result.tasks:
        counts[t.status] = counts.get(t.status, 0) + 1
    return result.status, result.outputs, sorted(counts.items())


@pytest.mark.parametrize(("pipeline", "arguments"), [
    ("control_flow_pipeline", {"n": 2, "items": [1, 2, 3]}),
    ("control_flow_pipeline", {"n": 3, "items": [1]}),
    ("one_of_pipeline", {"n": 2}),
    ("one_of_pipeline", {"n": 5}),
])
def test_loaded_kfp_yaml_runs_like_the_source(pipeline, arguments, run_file, runner, tmp_path):
    pytest.importorskip("kfp")
    assert only_imports_mention_conveyor(FIXTURE)
    loaded = components.load_component_from_file(compile_with_kfp(FIXTURE, tmp_path, pipeline))
    from_yaml = runner.run(loaded.pipeline_spec, arguments)
    native = run_file(FIXTURE, arguments, name=pipeline)
    assert native.succeeded, native.error
    assert _summary(from_yaml) == _summary(native)
    spec = loaded.pipeline_spec
    kinds = sorted(g.kind for g in spec.groups.values())
    assert kinds == sorted(g.kind for g in find_pipeline(FIXTURE, pipeline).pipeline_spec.groups.values())


def test_loaded_control_flow_compiles_for_argo(tmp_path, argo_schema):
    pytest.importorskip("kfp")
    loaded = components.load_component_from_file(compile_with_kfp(FIXTURE, tmp_path, "control_flow_pipeline"))
    manifest = compile_workflow(loaded.pipeline_spec, options=CompileOptions(image=TEST_IMAGE))
    argo_schema.check(manifest)
    assert manifest["spec"]["onExit"]
    assert any("withParam" in t for tpl in manifest["spec"]["templates"] for t in (tpl.get("dag") or {}).get("tasks", []))


def test_an_unreadable_condition_names_the_key(tmp_path):
    pytest.importorskip("kfp")
    import yaml

    data = yaml.safe_load(compile_with_kfp(FIXTURE, tmp_path, "one_of_pipeline").read_text())
    branches = next(v for k, v in data["components"].items() if k.startswith("comp-condition-branches"))
    first = next(iter(branches["dag"]["tasks"].values()))
    first["triggerPolicy"]["condition"] = "size(inputs.parameter_values['x']) > 1"
    with pytest.raises(ComponentSpecError, match=r"triggerPolicy.condition: cannot read the condition"):
        _ = components.load_component_from_text(yaml.safe_dump(data)).pipeline_spec
