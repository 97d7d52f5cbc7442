"""Secret names given at run time (kfp-kubernetes' `secret_name=` a pipeline parameter, a loop item or an
upstream task's output): on Argo the pod spec reads a template input the DAG task passes (where kfp's
platform spec has `secretNameParameter`); locally the name is resolved when the task is ready, and a
missing key fails that task, naming the secret, the key and where to set it, never leaking a value."""

from __future__ import annotations

import re

from conveyor.compiler.argo import CompileOptions, compile_workflow
from conveyor.runtime.loader import load_module_file
from tests.pipelines.kfp.test_kubernetes import FIXTURE, SECRET, TEST_IMAGE, _kfp_executor, _pod

_INPUT = re.compile(r"\{\{inputs\.parameters\.(.+)\}\}")


def _dag_args(manifest: dict) -> dict[str, str]:
    task = next(t for t in manifest["spec"]["templates"] if "dag" in t)["dag"]["tasks"][0]
    return {p["name"]: p["value"] for p in task["arguments"]["parameters"]}


def test_run_time_secret_name_reaches_the_pod_as_kfp_names_it(tmp_path):
    kfp = _kfp_executor(tmp_path)
    manifest = compile_workflow(load_module_file(FIXTURE).k8s_settings.pipeline_spec,
                                options=CompileOptions(image=TEST_IMAGE))
    pod, passed = _pod(manifest), _dag_args(manifest)
    declared = {p["name"] for p in pod["inputs"]["parameters"]}
    (env_ref,) = [r for r in kfp["secretAsEnv"] if "secretName" not in r]
    (vol_ref,) = [r for r in kfp["secretAsVolume"] if "secretName" not in r]
    source = "{{workflow.parameters." + env_ref["secretNameParameter"]["componentInputParameter"] + "}}"
    assert vol_ref["secretNameParameter"] == env_ref["secretNameParameter"] == {"componentInputParameter": "creds"}
    env = {e["name"]: e.get("valueFrom") for e in pod["container"]["env"]}
    (pair,) = env_ref["keyToEnv"]
    ref = env[pair["envVar"]]["secretKeyRef"]
    assert ref["key"] == pair["secretKey"]
    param = _INPUT.fullmatch(ref["name"]).group(1)
    assert param in declared and passed[param] == source
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: volumes[m["name"]] for m in pod["container"]["volumeMounts"]}
    param = _INPUT.fullmatch(mounts[vol_ref["mountPath"]]["secret"]["secretName"]).group(1)
    assert param in declared and passed[param] == source


OUTPUT_NAMED = """
from conveyor import kubernetes


@dsl.component
def name_of(x: str) -> str:
    return x

@dsl.component
def show() -> str:
    import os, pathlib
    return (os.environ["TOKEN"] + "|" + (pathlib.Path("MOUNT") / "token").read_text())[::-1]  # not the value

@dsl.pipeline
def by_output(secret: str = "api-creds") -> str:
    n = name_of(x=secret)
    t = show().set_caching_options(False)  # the cache key holds inputs, not pod settings (as in kfp)
    kubernetes.use_secret_as_env(t, secret_name=n.output, secret_key_to_env={"token": "TOKEN"})
    kubernetes.use_secret_as_volume(t, secret_name=n.output, mount_path="MOUNT")
    return t.output

@dsl.pipeline
def by_param(secret: str = "api-creds") -> str:
    t = show().set_caching_options(False)  # the cache key holds inputs, not pod settings (as in kfp)
    kubernetes.use_secret_as_env(t, secret_name=secret, secret_key_to_env={"token": "TOKEN"})
    kubernetes.use_secret_as_volume(t, secret_name=secret, mount_path="MOUNT")
    return t.output
"""


def test_argo_passes_an_upstream_output_as_the_secret_name(write_pipeline):
    from conveyor.runtime.loader import find_pipeline

    spec = find_pipeline(write_pipeline(OUTPUT_NAMED.replace("MOUNT", "/etc/creds"), name="secretout"),
                         "by_output").pipeline_spec
    manifest = compile_workflow(spec, options=CompileOptions(image=TEST_IMAGE))
    dag = next(t for t in manifest["spec"]["templates"] if "dag" in t)["dag"]["tasks"]
    show = next(t for t in dag if t["name"].startswith("show"))
    passed = {p["name"]: p["value"] for p in show["arguments"]["parameters"]}
    pod = next(t for t in manifest["spec"]["templates"] if t["name"] == show["template"])
    (env,) = [e for e in pod["container"]["env"] if e["name"] == "TOKEN"]
    param = _INPUT.fullmatch(env["valueFrom"]["secretKeyRef"]["name"]).group(1)
    assert re.fullmatch(r"\{\{tasks\.name-of[^.]*\.outputs\.parameters\.[^}]+\}\}", passed[param]), passed[param]
    assert show["dependencies"] == ["name-of"]  # and waits for it


def test_local_run_looks_secrets_up_by_the_resolved_name(home, run_file, write_pipeline, tmp_path, monkeypatch):
    path = write_pipeline(OUTPUT_NAMED.replace("MOUNT", str(tmp_path / "mnt" / "creds")), name="secretnames")
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text(f"from-file:\n  token: {SECRET}\n")
    monkeypatch.setenv("CONVEYOR_SECRETS_FILE", str(secrets))
    monkeypatch.setenv("CONVEYOR_SECRET_API_CREDS_TOKEN", SECRET + "-env")
    for pipeline, name, value in (("by_param", "from-file", SECRET), ("by_output", "api-creds", SECRET + "-env")):
        result = run_file(path, {"secret": name}, name=pipeline)
        assert result.status == "succeeded", result.error
        assert result.outputs == {"Output": f"{value}|{value}"[::-1]}
    for file in home.rglob("*"):  # metadata DB, task logs, requests, artifacts
        if file.is_file():
            assert SECRET.encode() not in file.read_bytes(), f"secret leaked into {file}"


def test_missing_run_time_secret_fails_that_task_clearly(home, run_file, write_pipeline, tmp_path, monkeypatch):
    monkeypatch.delenv("CONVEYOR_SECRETS_FILE", raising=False)
    monkeypatch.setenv("CONVEYOR_SECRET_OTHER_TOKEN", SECRET)  # set, but for another secret
    path = write_pipeline(OUTPUT_NAMED.replace("MOUNT", str(tmp_path / "mnt" / "creds")), name="nosecretname")
    for pipeline in ("by_param", "by_output"):
        result = run_file(path, {"secret": "missing-creds"}, name=pipeline)
        assert result.status == "failed"
        message = str(result.error)
        assert "secret 'missing-creds' key 'token' is not set locally" in message, message
        assert "CONVEYOR_SECRET_MISSING_CREDS_TOKEN" in message and "CONVEYOR_SECRETS_FILE" in message, message
    for file in home.rglob("*"):
        if file.is_file():
            assert SECRET.encode() not in file.read_bytes(), f"secret leaked into {file}"
