"""Container components: conveyor's IR matches what kfp compiles from the same file, and conveyor
runs them locally (on the host when no container engine works, with a note)."""

from __future__ import annotations

import json
import os

import pytest
import yaml
from kfp_swap import FIXTURES, import_lines_only, load, load_kfp

import conveyor
from conveyor.ir import PipelineDefinitionError
from conveyor.ir.container import Concat, IfPresent
from conveyor.runtime.container import choose_engine

FILE = FIXTURES / "container_components.py"


def _kfp_form(part):
    """conveyor's IR part in kfp's pipeline-IR form (structures as JSON strings)."""
    if isinstance(part, str):
        return part
    if isinstance(part, Concat):
        return {"Concat": [_kfp_form(p) for p in part.items]}
    body = {"InputName": part.input_name, "Then": [_kfp_form(p) for p in part.then]}
    if part.otherwise:
        body["Else"] = [_kfp_form(p) for p in part.otherwise]
    return {"IfPresent": body}


def _top(part):
    form = _kfp_form(part)
    return form if isinstance(form, str) else json.dumps(form)


@pytest.fixture(scope="module")
def ours():
    return load(FILE, "conveyor_container_components")


def test_only_import_lines_differ():
    assert import_lines_only(FILE)


def test_ir_matches_kfp_compiled_container_spec(ours, tmp_path):
    pytest.importorskip("kfp")
    from kfp import compiler

    theirs = load_kfp(FILE, tmp_path)
    compiler.Compiler().compile(theirs.container_pipeline, str(tmp_path / "p.yaml"))
    executors = yaml.safe_load((tmp_path / "p.yaml").read_text())["deploymentSpec"]["executors"]
    spec = ours.container_pipeline.pipeline_spec
    for comp in ("greet", "job-info"):
        kfp_container = executors[f"exec-{comp}"]["container"]
        impl = spec.components[comp.replace("-", "_")].implementation
        assert impl.image == kfp_container["image"]
        assert [_top(p) for p in impl.command] == kfp_container["command"]
        assert [_top(p) for p in impl.args] == kfp_container["args"]


def test_runs_on_the_host_and_resolves_placeholders(ours, tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CONVEYOR_CONTAINER_ENGINE", "host")
    result = conveyor.run(ours.greet, {"name": "bob", "suffix": "?"}, use_cache=False)
    assert result.status == "succeeded", result.error
    assert result.outputs["greeting"] == "hello bob|greet|?"
    default = conveyor.run(ours.greet, {"name": "cy"}, use_cache=False)
    assert default.outputs["greeting"] == "hello cy|greet|no-suffix"
    info = conveyor.run(ours.job_info, {}, use_cache=False)
    job, task_id = info.outputs["info"].split()
    assert job == info.run_id and task_id


def test_whole_pipeline_runs(ours, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = conveyor.run(ours.container_pipeline, {}, use_cache=False)
    assert result.status == "succeeded", result.error
    assert sorted(t.name for t in result.tasks) == ["greet", "greet-2", "job-info"]


def test_host_fallback_is_announced(ours, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CONVEYOR_HOME", str(tmp_path / ".conveyor"))  # `make test` exports its own
    monkeypatch.delenv("CONVEYOR_CONTAINER_ENGINE", raising=False)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no docker/podman on this PATH
    result = conveyor.run(ours.job_info, {}, use_cache=False)
    assert result.status == "succeeded", result.error
    logs = list((tmp_path / ".conveyor").rglob("log.txt"))
    assert any("running 'sh' of container component 'job_info' on this host" in p.read_text() for p in logs)


def test_missing_runtime_names_what_is_needed(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(conveyor.dsl.PermanentError, match=r"needs image 'trainer:1'.*Install and start podman or docker"):
        choose_engine(["train", "--fast"], "trainer:1", "train", os.environ | {"PATH": "/nonexistent"})


def test_bad_engine_setting_names_allowed_values():
    with pytest.raises(conveyor.dsl.PermanentError, match="allowed values are host, podman, docker"):
        choose_engine(["sh"], "alpine", "c", {"CONVEYOR_CONTAINER_ENGINE": "lxc"})


def test_unknown_placeholder_is_refused_at_authoring_time():
    from conveyor import dsl

    with pytest.raises(PipelineDefinitionError, match=r"unknown placeholder '\{\{\$.pipeline_job_colour\}\}'"):
        @dsl.container_component
        def bad():
            return dsl.ContainerSpec(image="alpine", command=["echo", "{{$.pipeline_job_colour}}"])


def test_placeholder_naming_a_missing_input_is_refused():
    from conveyor import dsl

    with pytest.raises(PipelineDefinitionError, match=r"IfPresentPlaceholder names input 'nope'"):
        @dsl.container_component
        def bad(x: str):
            return dsl.ContainerSpec(image="alpine", command=[dsl.IfPresentPlaceholder(input_name="nope", then=[x])])


def test_container_spec_required():
    from conveyor import dsl

    with pytest.raises(PipelineDefinitionError, match="must return dsl.ContainerSpec"):
        @dsl.container_component
        def bad(x: str):
            return ["echo", x]


def test_argo_template_uses_the_image_and_runs_the_command_in_the_pod(ours):
    from conveyor.compiler.argo import compile_workflow

    manifest = compile_workflow(ours.container_pipeline.pipeline_spec)
    containers = [t["container"] for t in manifest["spec"]["templates"] if "container" in t]
    greet = [c for c in containers if c["image"] == "alpine:3.19"]
    assert greet and all({"name": "CONVEYOR_CONTAINER_ENGINE", "value": "host"} in c["env"] for c in greet)
    assert isinstance(IfPresent, type)
