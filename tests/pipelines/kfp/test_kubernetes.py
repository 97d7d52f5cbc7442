"""conveyor.kubernetes against kfp-kubernetes: the same fixture file compiled by kfp (its platform spec)
and by conveyor (the Argo pod spec) puts every secret, config map, PVC, selector, toleration, pull
policy, label, annotation and timeout in the corresponding place. Locally: secrets from the
environment or a mapping file, a clear error naming secret and key, and the value never in
metadata or logs."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from conveyor.compiler.argo import CompileOptions, compile_workflow, to_yaml
from conveyor.runtime.loader import load_module_file
from tests.pipelines.compiler.test_argo_lint import argo_cli, lint  # noqa: F401 - the fixture

FIXTURE = Path(__file__).parent / "fixtures" / "k8s_settings.py"
TEST_IMAGE = "conveyor.local/conveyor-task:test"  # what `conveyor image build` would name
SECRET = "s3cr3t-VALUE-4b1d"


def _pod(manifest: dict) -> dict:
    return next(t for t in manifest["spec"]["templates"] if "container" in t)


def _kfp_executor(tmp_path) -> dict:
    pytest.importorskip("kfp.kubernetes")
    import yaml
    from kfp import compiler

    source = FIXTURE.read_text()
    swapped = source.replace("from conveyor import dsl, kubernetes", "from kfp import dsl, kubernetes")
    assert [a for a, b in zip(source.splitlines(), swapped.splitlines(), strict=True) if a != b] == \
        ["from conveyor import dsl, kubernetes"]  # only the imports differ
    copy = tmp_path / "kfp_k8s_settings.py"
    copy.write_text(swapped)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = load_module_file(copy)
        compiler.Compiler().compile(module.k8s_settings, str(tmp_path / "kfp.yaml"))
    platform = list(yaml.safe_load_all((tmp_path / "kfp.yaml").read_text()))[1]
    return platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-show"]


def test_pod_spec_matches_kfp_platform_spec(tmp_path, argo_cli):  # noqa: F811
    kfp = _kfp_executor(tmp_path)
    manifest = compile_workflow(load_module_file(FIXTURE).k8s_settings.pipeline_spec,
                                options=CompileOptions(image=TEST_IMAGE))
    pod = _pod(manifest)
    # Argo takes pull secrets for the whole Workflow (every pod), kfp per executor: the same names
    assert [s["name"] for s in manifest["spec"]["imagePullSecrets"]] == \
        [ref["secretName"] for ref in kfp["imagePullSecret"]]
    (tmp_path / "k8s_settings.yaml").write_text(to_yaml(manifest))
    assert lint(argo_cli, [tmp_path / "k8s_settings.yaml"]) == {}  # Argo's own validator accepts it
    env = {e["name"]: e.get("valueFrom") for e in pod["container"]["env"]}
    for ref in (r for r in kfp["secretAsEnv"] if "secretName" in r):  # run-time names: test_kubernetes_secret_names
        for pair in ref["keyToEnv"]:
            assert env[pair["envVar"]] == {"secretKeyRef": {"name": ref["secretName"], "key": pair["secretKey"]}}
    for ref in kfp["configMapAsEnv"]:
        for pair in ref["keyToEnv"]:
            assert env[pair["envVar"]] == {"configMapKeyRef": {"name": ref["configMapName"], "key": pair["configMapKey"]}}
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: volumes[m["name"]] for m in pod["container"]["volumeMounts"]}
    for ref in (r for r in kfp["secretAsVolume"] if "secretName" in r):
        assert mounts[ref["mountPath"]]["secret"]["secretName"] == ref["secretName"]
    for ref in kfp["configMapAsVolume"]:
        assert mounts[ref["mountPath"]]["configMap"]["name"] == ref["configMapName"]
    (pvc,) = kfp["pvcMount"]
    claim = mounts[pvc["mountPath"]]["persistentVolumeClaim"]["claimName"]
    param = re.fullmatch(r"\{\{inputs\.parameters\.(.+)\}\}", claim).group(1)
    dag_task = next(t for t in compile_workflow(load_module_file(FIXTURE).k8s_settings.pipeline_spec, options=CompileOptions(image=TEST_IMAGE))["spec"]
                    ["templates"] if "dag" in t)["dag"]["tasks"][0]
    passed = {p["name"]: p["value"] for p in dag_task["arguments"]["parameters"]}
    assert passed[param] == "{{workflow.parameters." + pvc["pvcNameParameter"]["componentInputParameter"] + "}}"
    assert pod["nodeSelector"] == kfp["nodeSelector"]["labels"]
    assert pod["tolerations"] == kfp["tolerations"]
    assert pod["container"]["imagePullPolicy"] == kfp["imagePullPolicy"]
    assert kfp["podMetadata"]["labels"].items() <= pod["metadata"]["labels"].items()
    assert pod["metadata"]["annotations"] == kfp["podMetadata"]["annotations"]
    assert pod["activeDeadlineSeconds"] == kfp["activeDeadlineSeconds"]


def test_spec_records_names_never_values(monkeypatch):
    monkeypatch.setenv("CONVEYOR_SECRET_DB_CREDS_PASSWORD", SECRET)
    spec = load_module_file(FIXTURE).k8s_settings.pipeline_spec
    assert SECRET not in spec.to_json() and "db-creds" in spec.to_json()


LOCAL = """
from conveyor import kubernetes


@dsl.component
def write(x: str, root: str) -> str:
    import pathlib
    (pathlib.Path(root) / "f.txt").write_text(x)
    return x

@dsl.component
def show(x: str, root: str) -> str:
    import os, pathlib
    print("running show")
    return os.environ["DB_PASS"][::-1] + "|" + (pathlib.Path(root) / "f.txt").read_text() + "|" + os.environ["MODE"]

@dsl.pipeline
def local_k8s(claim: str = "shared", x: str = "a", root: str = "/tmp") -> str:
    w = write(x=x, root=root)
    kubernetes.mount_pvc(w, pvc_name=claim, mount_path="MOUNT")
    t = show(x=w.output, root=root)
    kubernetes.use_secret_as_env(t, secret_name="db-creds", secret_key_to_env={"password": "DB_PASS"})
    kubernetes.use_config_map_as_env(t, config_map_name="cfg", config_map_key_to_env={"mode": "MODE"})
    kubernetes.mount_pvc(t, pvc_name=claim, mount_path="MOUNT")
    kubernetes.add_node_selector(t, "pool", "gpu")
    return t.output
"""


def test_local_run_reads_secrets_and_shares_the_pvc_folder_without_leaking(home, run_file, write_pipeline, tmp_path,
                                                                          monkeypatch):
    mount = tmp_path / "mnt" / "data"
    path = write_pipeline(LOCAL.replace("MOUNT", str(mount)), name="localk8s")
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text(f"db-creds:\n  password: {SECRET}\n")
    monkeypatch.setenv("CONVEYOR_SECRETS_FILE", str(secrets))
    monkeypatch.setenv("CONVEYOR_CONFIGMAP_CFG_MODE", "fast")
    result = run_file(path, {"root": str(mount)})
    assert result.status == "succeeded", result.error
    assert result.outputs == {"Output": SECRET[::-1] + "|a|fast"}
    assert (home / "pvcs" / "shared" / "f.txt").read_text() == "a"  # the claim is a folder that outlives the run
    for file in home.rglob("*"):  # metadata DB, task logs, requests, artifacts
        if file.is_file():
            assert SECRET.encode() not in file.read_bytes(), f"secret leaked into {file}"


def test_missing_secret_names_secret_key_and_where_to_set_it_and_records_nothing(home, runner, write_pipeline,
                                                                                 monkeypatch):
    from conveyor.runtime.kube_local import LocalKubernetesError
    from conveyor.runtime.loader import find_pipeline

    monkeypatch.delenv("CONVEYOR_SECRET_DB_CREDS_PASSWORD", raising=False)
    monkeypatch.delenv("CONVEYOR_SECRETS_FILE", raising=False)
    spec = find_pipeline(write_pipeline(LOCAL, name="nosecret"), "local_k8s").pipeline_spec
    with pytest.raises(LocalKubernetesError, match=r"task 'show': secret 'db-creds' key 'password' is not set "
                                                   r"locally; set CONVEYOR_SECRET_DB_CREDS_PASSWORD"):
        runner.run(spec, {})
    assert runner.store.list_runs() == []


def test_bad_settings_are_authoring_errors():
    from conveyor import dsl, kubernetes
    from conveyor.ir import PipelineDefinitionError

    @dsl.component
    def noop() -> None:
        pass

    @dsl.pipeline
    def bad():
        kubernetes.set_image_pull_policy(noop(), "Sometimes")

    with pytest.raises(PipelineDefinitionError, match="'Sometimes' is not one of Always, Never, IfNotPresent"):
        _ = bad.pipeline_spec
