"""dsl.PipelineConfig workspaces: one folder every task of a run shares.

The fixture runs under kfp's local runner (with a ``workspace_root``) and under conveyor with the
same outputs. Beyond kfp.local: a task that reads the workspace is never a cache hit (a new run's
workspace starts empty), a failed run keeps its workspace for `resume`, and on Argo the run gets a
PVC from ``volumeClaimTemplates`` mounted at kfp's ``/kfp-workspace`` in every pod (Argo's lint and
schema here; tests/cluster/test_e2e_scenarios.py runs it on the real controller).
"""

from __future__ import annotations

import pytest

from conveyor import dsl
from conveyor.compiler.argo import CompileOptions, compile_workflow, to_yaml
from conveyor.ir import PipelineDefinitionError
from conveyor.runtime.loader import find_pipeline
from conveyor.runtime.pod import parse_args
from conveyor.runtime.protocol.workdir import AttemptDir
from tests.pipelines.compiler.helpers import container_templates, flag_values
from tests.pipelines.compiler.test_argo_lint import argo_cli, lint  # noqa: F401 - the fixture
from tests.pipelines.kfp.compat import fixture, only_imports_mention_conveyor, run_kfp

FIXTURE = fixture("workspace.py")

GATED = """
@dsl.component
def write_note(workspace_path: str) -> str:
    with open(workspace_path + "/note.txt", "w") as fh:
        fh.write("kept for the resume")
    return "ok"

@dsl.component
def read_note(workspace_path: str, gate: str) -> str:
    import os
    if not os.path.exists(gate):
        raise dsl.PermanentError("the gate file is missing")
    with open(workspace_path + "/note.txt") as fh:
        return fh.read()

@dsl.pipeline(pipeline_config=dsl.PipelineConfig(workspace=dsl.WorkspaceConfig(size="1Gi")))
def gated(gate: str) -> str:
    wrote = write_note(workspace_path=dsl.WORKSPACE_PATH_PLACEHOLDER)
    return read_note(workspace_path=dsl.WORKSPACE_PATH_PLACEHOLDER, gate=gate).after(wrote).output
"""


DOWNLOAD = """
@dsl.container_component
def list_workspace(listing: OutputPath(str)):
    return dsl.ContainerSpec(image="alpine:3.19", command=["sh", "-c", 'ls "$0/.artifacts" > "$1"'],
                             args=[dsl.WORKSPACE_PATH_PLACEHOLDER, listing])

@dsl.pipeline(pipeline_config=dsl.PipelineConfig(workspace=dsl.WorkspaceConfig(size="1Gi")))
def download(uri: str) -> str:
    imported = dsl.importer(artifact_uri=uri, artifact_class=Dataset, download_to_workspace=True)
    return list_workspace().after(imported).output
"""


def _statuses(result) -> dict[str, str]:
    return {t.task: t.status for t in result.tasks}


def test_the_workspace_is_shared_as_in_kfp_local(run_file, tmp_path, home):
    pytest.importorskip("kfp")
    assert only_imports_mention_conveyor(FIXTURE)
    expected = run_kfp(FIXTURE, "workspace_pipeline", tmp_path, {"text": "from kfp"})
    result = run_file(FIXTURE, {"text": "from kfp"}, name="workspace_pipeline")
    assert result.succeeded, result.error
    assert result.outputs == expected == {"Output": "FROM KFP"}
    assert not AttemptDir.workspace(home, result.run_id).exists()  # removed once the run succeeded


def test_a_task_reading_the_workspace_is_never_a_cache_hit(run_file):
    first = run_file(FIXTURE, {"text": "same"}, name="workspace_pipeline")
    again = run_file(FIXTURE, {"text": "same"}, name="workspace_pipeline")
    assert first.succeeded and again.succeeded, (first.error, again.error)
    # a hit for write-note would leave read-note an empty workspace
    assert _statuses(again) == {"write-note": "succeeded", "read-note": "succeeded"}
    assert again.outputs == {"Output": "SAME"}


def test_a_failed_run_keeps_its_workspace_and_resume_finishes_it(runner, write_pipeline, home, tmp_path):
    path = write_pipeline(GATED)
    spec = find_pipeline(path, "gated").pipeline_spec
    gate = tmp_path / "gate"
    failed = runner.run(spec, {"gate": str(gate)}, preload=[str(path)])
    assert not failed.succeeded and "the gate file is missing" in (failed.error or "")
    folder = AttemptDir.workspace(home, failed.run_id)
    assert (folder / "note.txt").read_text() == "kept for the resume"
    gate.write_text("open")
    resumed = runner.resume(failed.run_id, preload=[str(path)])
    assert resumed.succeeded, resumed.error
    assert resumed.outputs == {"Output": "kept for the resume"}
    assert not folder.exists()


def test_reading_the_workspace_without_one_is_refused_by_name(write_pipeline):
    path = write_pipeline(GATED.replace(
        '@dsl.pipeline(pipeline_config=dsl.PipelineConfig(workspace=dsl.WorkspaceConfig(size="1Gi")))',
        "@dsl.pipeline"))
    with pytest.raises(PipelineDefinitionError) as err:
        _ = find_pipeline(path, "gated").pipeline_spec
    text = str(err.value)
    assert "task 'write-note'" in text and "'workspace_path'" in text and "dsl.PipelineConfig(" in text


def test_an_importer_downloads_into_the_workspace_a_container_command_reads(runner, write_pipeline, tmp_path,
                                                                         monkeypatch):
    monkeypatch.setenv("CONVEYOR_CONTAINER_ENGINE", "host")  # sh runs on the host: no image engine needed
    data = tmp_path / "rows.csv"
    data.write_text("a,b\n")
    path = write_pipeline(DOWNLOAD)
    result = runner.run(find_pipeline(path, "download").pipeline_spec, {"uri": str(data)}, preload=[str(path)])
    assert result.succeeded, result.error
    assert result.outputs == {"Output": "rows.csv\n"}
    again = runner.run(find_pipeline(path, "download").pipeline_spec, {"uri": str(data)}, preload=[str(path)])
    assert _statuses(again) == {"importer": "succeeded", "list-workspace": "succeeded"}  # neither is a hit
    bare = write_pipeline(DOWNLOAD.replace(
        '@dsl.pipeline(pipeline_config=dsl.PipelineConfig(workspace=dsl.WorkspaceConfig(size="1Gi")))', "@dsl.pipeline"))
    with pytest.raises(PipelineDefinitionError, match="downloads into the run's workspace.*dsl.PipelineConfig"):
        _ = find_pipeline(bare, "download").pipeline_spec


@pytest.mark.parametrize(("config", "words"), [
    ("dsl.PipelineConfig(workspace=dsl.WorkspaceConfig(size='1Gi', kubernetes=dsl.KubernetesWorkspaceConfig("
     "pvcSpecPatch={'storageClass': 'fast'})))", ["pipeline_config", "'storageClass'", "storageClassName"]),
    ("{'workspace': '1Gi'}", ["pipeline_config must be a dsl.PipelineConfig"]),
])
def test_a_bad_pipeline_config_names_the_key(write_pipeline, config, words):
    path = write_pipeline(f"""
@dsl.component
def noop() -> str:
    return "x"

@dsl.pipeline(pipeline_config={config})
def bad():
    noop()
""")
    with pytest.raises(PipelineDefinitionError) as err:
        _ = find_pipeline(path, "bad").pipeline_spec
    assert all(w in str(err.value) for w in words), str(err.value)


def test_argo_gives_the_run_a_claim_every_pod_mounts(argo_cli, argo_schema, tmp_path):  # noqa: F811
    spec = find_pipeline(FIXTURE, "workspace_pipeline").pipeline_spec
    patched = spec.model_copy(update={"workspace": spec.workspace.model_copy(
        update={"pvc_spec_patch": {"storageClassName": "fast", "accessModes": ["ReadWriteMany"]}})})
    manifest = compile_workflow(patched, options=CompileOptions(image="conveyor.local/conveyor-task:test"))
    argo_schema.check(manifest)
    (claim,) = manifest["spec"]["volumeClaimTemplates"]
    assert claim == {"metadata": {"name": "kfp-workspace"},
                     "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "1Gi"}},
                              "storageClassName": "fast"}}
    assert manifest["spec"]["volumeClaimGC"] == {"strategy": "OnWorkflowCompletion"}  # not kept after a failure
    pods = container_templates(manifest)
    assert len(pods) == 2
    for template in pods.values():
        container = template["container"]
        assert {"name": "kfp-workspace", "mountPath": "/kfp-workspace"} in container["volumeMounts"]
        assert flag_values(container, "--workspace") == ["/kfp-workspace"]
    (tmp_path / "workspace.yaml").write_text(to_yaml(manifest))
    assert lint(argo_cli, [tmp_path / "workspace.yaml"]) == {}
    args = parse_args(["--spec", "env:X", "--task", "t", "--run-id", "r", "--outputs-dir", "/tmp/o",
                       "--workspace", "/kfp-workspace"])
    assert args.workspace == "/kfp-workspace"


def test_a_pipeline_without_a_workspace_compiles_as_before():
    @dsl.pipeline
    def plain() -> None:
        pass

    assert "workspace" not in plain.pipeline_spec.to_dict()
