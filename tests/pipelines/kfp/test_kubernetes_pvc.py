"""kfp-kubernetes' CreatePVC / DeletePVC: the same fixture compiled by kfp (its driver creates the claim)
and by conveyor (an Argo resource template), checked field by field, plus the local run where the
claim is a folder that exists from CreatePVC until DeletePVC."""

from __future__ import annotations

import json

import pytest

from conveyor import dsl, kubernetes
from conveyor.compiler.argo import CompileOptions, compile_workflow
from conveyor.ir import PipelineDefinitionError
from conveyor.runtime.loader import find_pipeline
from tests.pipelines.compiler.helpers import dag_tasks, templates
from tests.pipelines.kfp.compat import compile_with_kfp, fixture, only_imports_mention_conveyor

FIXTURE = fixture("pvc_lifecycle.py")
TEST_IMAGE = "conveyor.local/conveyor-task:test"


def _constants(task: dict) -> dict:
    return {k: v["runtimeValue"]["constant"] for k, v in task["inputs"]["parameters"].items() if "runtimeValue" in v}


def test_compiled_pvc_lifecycle_matches_kfp(tmp_path, argo_schema):
    pytest.importorskip("kfp.kubernetes")
    import yaml

    assert only_imports_mention_conveyor(FIXTURE)
    docs = list(yaml.safe_load_all(compile_with_kfp(FIXTURE, tmp_path).read_text()))
    kfp_tasks = docs[0]["root"]["dag"]["tasks"]
    kfp_mounts = docs[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    manifest = compile_workflow(find_pipeline(FIXTURE, "pvc_pipeline").pipeline_spec,
                                options=CompileOptions(image=TEST_IMAGE))
    argo_schema.check(manifest)
    ours = dag_tasks(manifest, manifest["spec"]["entrypoint"])
    assert set(ours) == set(kfp_tasks)
    created = json.loads(templates(manifest)[ours["createpvc"]["template"]]["resource"]["manifest"])
    wanted = _constants(kfp_tasks["createpvc"])
    assert created["spec"]["accessModes"] == wanted["access_modes"]
    assert created["spec"]["resources"]["requests"]["storage"] == wanted["size"]
    assert created["spec"]["storageClassName"] == wanted["storage_class_name"]
    assert created["metadata"]["name"] == "{{pod.name}}" + wanted["pvc_name_suffix"]
    out = "{{tasks.createpvc.outputs.parameters.name}}"
    for task in ("write", "read"):
        (mount,) = kfp_mounts[f"exec-{task}"]["pvcMount"]
        assert mount["taskOutputParameter"] == {"outputParameterKey": "name", "producerTask": "createpvc"}
        pod = templates(manifest)[ours[task]["template"]]
        (volume,) = [v for v in pod["volumes"] if "persistentVolumeClaim" in v]  # beside the /tmp emptyDir
        param = volume["persistentVolumeClaim"]["claimName"].removeprefix("{{inputs.parameters.").removesuffix("}}")
        assert {p["name"]: p["value"] for p in ours[task]["arguments"]["parameters"]}[param] == out
        assert {"name": volume["name"], "mountPath": mount["mountPath"]} in pod["container"]["volumeMounts"]
    delete = templates(manifest)[ours["deletepvc"]["template"]]["resource"]
    assert delete["action"] == "delete"
    assert ours["deletepvc"]["arguments"]["parameters"] == [{"name": "pvc_name", "value": out}]
    assert set(kfp_tasks["deletepvc"]["dependentTasks"]) <= set(ours["deletepvc"]["dependencies"])


def test_local_claim_is_a_folder_from_create_to_delete(home, run_file):
    result = run_file(FIXTURE, {"text": "shared!"}, name="pvc_pipeline")
    assert result.succeeded, result.error
    assert result.outputs == {"Output": "shared!"}
    assert [t.status for t in result.tasks] == ["succeeded"] * 4
    assert list((home / "pvcs").iterdir()) == []  # DeletePVC removed the claim CreatePVC made


def test_bad_create_pvc_arguments_are_authoring_errors():
    @dsl.pipeline
    def both_names():
        kubernetes.CreatePVC(pvc_name="a", pvc_name_suffix="-b", access_modes=["ReadWriteOnce"], size="1Gi")

    @dsl.pipeline
    def bad_mode():
        kubernetes.CreatePVC(pvc_name="a", access_modes=["ReadWriteSometimes"], size="1Gi")

    with pytest.raises(PipelineDefinitionError, match="at most one of pvc_name and pvc_name_suffix"):
        _ = both_names.pipeline_spec
    with pytest.raises(PipelineDefinitionError, match="each must be one of ReadWriteOnce"):
        _ = bad_mode.pipeline_spec


LOCAL_ERRORS = """
from conveyor import kubernetes


@dsl.pipeline
def create_twice():
    kubernetes.CreatePVC(pvc_name="fixed", access_modes=["ReadWriteOnce"], size="1Gi")


@dsl.pipeline
def delete_missing():
    kubernetes.DeletePVC(pvc_name="never-made")
"""


def test_local_claims_fail_like_a_cluster(home, run_file, write_pipeline):
    path = write_pipeline(LOCAL_ERRORS)
    assert run_file(path, name="create_twice").succeeded
    again = run_file(path, name="create_twice")  # never cached: the claim exists now
    assert not again.succeeded and "claim 'fixed' already exists locally" in again.tasks[0].error
    missing = run_file(path, name="delete_missing")
    assert not missing.succeeded and "there is no claim 'never-made' locally" in missing.tasks[0].error


CLONE = """
from conveyor import kubernetes


@dsl.component
def write(text: str):
    with open("/tmp/conveyor-clone-src/file.txt", "w") as f:
        f.write(text)


@dsl.component
def read() -> str:
    with open("/tmp/conveyor-clone-dst/file.txt") as f:
        return f.read()


@dsl.pipeline
def clone_pipeline(text: str = "cloned") -> str:
    src = kubernetes.CreatePVC(pvc_name="clone-src", access_modes=["ReadWriteOnce"], size="1Mi")
    w = write(text=text)
    kubernetes.mount_pvc(w, pvc_name=src.outputs["name"], mount_path="/tmp/conveyor-clone-src")
    dst = kubernetes.CreatePVC(pvc_name="clone-dst", access_modes=["ReadWriteOnce"], size="1Mi",
                               data_source={"kind": "PersistentVolumeClaim", "name": "clone-src"}).after(w)
    r = read()
    kubernetes.mount_pvc(r, pvc_name=dst.outputs["name"], mount_path="/tmp/conveyor-clone-dst")
    return r.output


@dsl.pipeline
def snapshot_pipeline():
    kubernetes.CreatePVC(pvc_name="from-snap", access_modes=["ReadWriteOnce"], size="1Mi",
                         data_source={"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "s"})
"""


def test_data_source_clones_a_claim_locally_and_reaches_the_pvc_spec(home, run_file, write_pipeline):
    path = write_pipeline(CLONE)
    result = run_file(path, name="clone_pipeline")
    assert result.succeeded, result.error
    assert result.outputs == {"Output": "cloned"}
    snap = run_file(path, name="snapshot_pipeline")
    assert not snap.succeeded and "snapshots exist only on a cluster" in snap.tasks[0].error
    assert not (home / "pvcs" / "from-snap").exists()
    manifest = compile_workflow(find_pipeline(path, "snapshot_pipeline").pipeline_spec,
                                options=CompileOptions(image=TEST_IMAGE))
    (resource,) = [t["resource"] for t in manifest["spec"]["templates"] if "resource" in t]
    assert json.loads(resource["manifest"])["spec"]["dataSource"] == {
        "apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "s"}


def test_a_data_source_without_kind_and_name_is_an_authoring_error():
    @dsl.pipeline
    def bad_source():
        kubernetes.CreatePVC(pvc_name="a", access_modes=["ReadWriteOnce"], size="1Gi", data_source={"name": "x"})

    with pytest.raises(PipelineDefinitionError, match="data_source .* must be a dict with 'kind' and 'name'"):
        _ = bad_source.pipeline_spec
