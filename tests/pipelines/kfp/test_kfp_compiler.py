"""`compiler.Compiler().compile(...)` writes the Argo Workflow; a component compiles as a one-task
pipeline; `conveyor run FILE:COMPONENT` runs one; `conveyor.v2` is kfp.v2's alias."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml
from kfp_swap import FIXTURES, load

from conveyor import compiler
from conveyor.ir import PipelineDefinitionError

FILE = FIXTURES / "container_components.py"


@pytest.fixture(scope="module")
def mod():
    return load(FILE, "conveyor_cc_for_compiler")


def _param(manifest, name):
    return next(p for p in manifest["spec"]["arguments"]["parameters"] if p["name"] == name)


def test_compile_writes_argo_workflow_with_pipeline_parameters(mod, tmp_path):
    out = tmp_path / "p.yaml"
    compiler.Compiler().compile(mod.container_pipeline, str(out), pipeline_parameters={"name": "zed"})
    manifest = yaml.safe_load(out.read_text())
    assert manifest["kind"] == "Workflow" and _param(manifest, "name")["value"] == "zed"
    compiler.Compiler().compile(mod.container_pipeline, str(tmp_path / "p.json"))
    assert json.loads((tmp_path / "p.json").read_text())["kind"] == "Workflow"


def test_component_compiles_as_one_task_pipeline_like_kfp(mod, tmp_path):
    pytest.importorskip("kfp")
    from kfp import compiler as kfp_compiler
    from kfp_swap import load_kfp

    compiler.Compiler().compile(mod.greet, str(tmp_path / "c.yaml"))
    ours = yaml.safe_load((tmp_path / "c.yaml").read_text())
    theirs_mod = load_kfp(FILE, tmp_path)
    kfp_compiler.Compiler().compile(theirs_mod.greet, str(tmp_path / "k.yaml"))
    theirs = yaml.safe_load((tmp_path / "k.yaml").read_text())
    kfp_tasks = set(theirs["root"]["dag"]["tasks"])
    dag = next(t for t in ours["spec"]["templates"] if "dag" in t)
    assert {t["name"] for t in dag["dag"]["tasks"]} == kfp_tasks == {"greet"}
    assert set(theirs["root"]["inputDefinitions"]["parameters"]) == {
        p["name"] for p in ours["spec"]["arguments"]["parameters"] if not p["name"].startswith("conveyor")}


def test_bad_pipeline_parameters_name_the_key(mod, tmp_path):
    with pytest.raises(PipelineDefinitionError, match=r"names 'nme'.*allowed: \['name'\]"):
        compiler.Compiler().compile(mod.container_pipeline, str(tmp_path / "x.yaml"), pipeline_parameters={"nme": 1})
    with pytest.raises(PipelineDefinitionError, match=r"= 3 is not a str"):
        compiler.Compiler().compile(mod.container_pipeline, str(tmp_path / "x.yaml"), pipeline_parameters={"name": 3})
    assert not (tmp_path / "x.yaml").exists()
    with pytest.raises(PipelineDefinitionError, match="needs a @dsl.pipeline or a component"):
        compiler.Compiler().compile(print, str(tmp_path / "x.yaml"))


def test_cli_runs_file_colon_component(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "conveyor", "run", f"{FILE}:job_info", "--json"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["status"] == "succeeded" and [t["name"] for t in result["tasks"]] == ["job-info"]


def test_v2_alias():
    import conveyor
    from conveyor.v2 import compiler as v2_compiler
    from conveyor.v2 import dsl as v2_dsl

    assert v2_dsl is conveyor.dsl and v2_compiler.Compiler is compiler.Compiler


def test_python_components_take_the_task_image_from_the_profile_or_its_env(tmp_path, monkeypatch):
    """Python components run the task image, which a profile's registry names: kfp scripts call
    compile() with no such argument, so CONVEYOR_PROFILE / CONVEYOR_STACK supply it, and without
    either the error says so (never a Workflow whose pods pull an unowned name)."""
    from conveyor.compiler.argo import CompileError

    mod = load(FIXTURES / "artifact_leniency.py", "conveyor_py_for_compiler")
    pipeline = mod.leniency_pipeline
    monkeypatch.delenv("CONVEYOR_PROFILE", raising=False)
    monkeypatch.delenv("CONVEYOR_STACK", raising=False)
    with pytest.raises(CompileError, match=r"no task image.*profile=PATH or stack=NAME.*\$CONVEYOR_PROFILE"):
        compiler.Compiler().compile(pipeline, str(tmp_path / "none.yaml"))
    assert not (tmp_path / "none.yaml").exists()
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"artifact_root": "s3://b/a", "metadata_url": "sqlite:///m.db",
                                   "image_registry": "registry.test/team"}))
    monkeypatch.setenv("CONVEYOR_PROFILE", str(profile))
    compiler.Compiler().compile(pipeline, str(tmp_path / "env.yaml"))
    images = {t["container"]["image"] for t in yaml.safe_load((tmp_path / "env.yaml").read_text())["spec"]["templates"]
              if "container" in t}
    assert images and all(i.startswith("registry.test/team/conveyor-task:") for i in images)
    with pytest.raises(ValueError, match="either profile= or stack="):
        compiler.Compiler().compile(pipeline, str(tmp_path / "both.yaml"), stack="dev")


def test_kfp_compiler_compiler_module_path():
    from conveyor.compiler import compiler as module

    assert module.Compiler is compiler.Compiler
