"""set_cpu_limit / set_memory_limit given a pipeline parameter or a task output: kfp compiles them as
run-time placeholders and its local runner runs the file; conveyor runs it the same, resolves the value
when the task starts, and on Argo passes it through a podSpecPatch. set_accelerator_type stays a
literal (the GPU pool is chosen when the pipeline compiles), refused with the alternative."""

from __future__ import annotations

import json

import pytest

from conveyor.compiler.argo import CompileOptions, compile_workflow
from conveyor.runtime.loader import find_pipeline
from tests.pipelines.compiler.helpers import dag_tasks, templates
from tests.pipelines.kfp.compat import compile_with_kfp, fixture, only_imports_mention_conveyor, run_kfp

FIXTURE = fixture("runtime_resources.py")
TEST_IMAGE = "conveyor.local/conveyor-task:test"


def test_runtime_limits_run_like_kfp(run_file, tmp_path):
    pytest.importorskip("kfp")
    assert only_imports_mention_conveyor(FIXTURE)
    args = {"cpu": "2", "big": True, "n": 4}
    expected = run_kfp(FIXTURE, "runtime_resources_pipeline", tmp_path, args)
    result = run_file(FIXTURE, args, name="runtime_resources_pipeline")
    assert result.succeeded, result.error
    assert result.outputs == expected == {"Output": 8}


def test_kfp_and_conveyor_read_the_same_values(tmp_path):
    pytest.importorskip("kfp")
    import yaml

    kfp = yaml.safe_load(compile_with_kfp(FIXTURE, tmp_path).read_text())
    resources = kfp["deploymentSpec"]["executors"]["exec-work"]["container"]["resources"]
    assert set(resources) >= {"resourceCpuLimit", "resourceMemoryLimit"}
    spec = find_pipeline(FIXTURE, "runtime_resources_pipeline").pipeline_spec
    args = spec.tasks["work"].resource_args
    assert args["cpu_limit"].kind == "pipeline_param" and args["cpu_limit"].name == "cpu"
    assert (args["memory_limit"].task, args["memory_limit"].output) == ("pick-memory", "Output")
    assert spec.tasks["work"].resources.cpu_limit is None


def test_a_bad_runtime_quantity_fails_the_task_naming_the_setting(run_file):
    result = run_file(FIXTURE, {"cpu": "lots"}, name="runtime_resources_pipeline")
    assert not result.succeeded
    (work,) = [t for t in result.tasks if t.task == "work"]
    assert work.status == "failed" and "set_cpu_limit() got 'lots' at run time" in (work.error or "")


def test_runtime_limits_compile_to_a_pod_spec_patch(argo_schema):
    spec = find_pipeline(FIXTURE, "runtime_resources_pipeline").pipeline_spec
    manifest = compile_workflow(spec, options=CompileOptions(image=TEST_IMAGE))
    argo_schema.check(manifest)
    node = dag_tasks(manifest, manifest["spec"]["entrypoint"])["work"]
    passed = {p["name"]: p["value"] for p in node["arguments"]["parameters"]}
    assert passed["conveyor-res-cpu-limit"] == "{{workflow.parameters.cpu}}"
    assert passed["conveyor-res-memory-limit"] == "{{tasks.pick-memory.outputs.parameters.Output}}"
    assert "pick-memory" in node["dependencies"]
    pod = templates(manifest)[node["template"]]
    patch = json.loads(pod["podSpecPatch"])
    assert patch == {"containers": [{"name": "main", "resources": {"limits": {
        "cpu": "{{inputs.parameters.conveyor-res-cpu-limit}}",
        "memory": "{{inputs.parameters.conveyor-res-memory-limit}}"}}}]}
    assert "resources" not in pod["container"]
