"""conveyor.kubernetes' emptyDir, ephemeral volume, field-path env, node affinity, security context and
`mount_pvc(sub_path=)` against kfp-kubernetes 2.17: the same signatures and module names; the fixture
(`fixtures/k8s_settings.py`, which `test_kubernetes` also passes through `argo lint`) compiled by kfp
(its platform spec) and by conveyor (the Argo pod spec) puts each in the place kfp's driver does;
locally the volumes are fresh folders per attempt, field paths their local values, affinity and
security context recorded and ignored; bad input is an authoring error naming task and argument."""

from __future__ import annotations

import importlib
import inspect

import pytest

from conveyor import dsl
from conveyor.compiler.argo import CompileOptions, compile_workflow
from conveyor.runtime.loader import load_module_file
from tests.pipelines.kfp.test_kubernetes import FIXTURE, TEST_IMAGE, _kfp_executor, _pod

NEW = {"empty_dir": ["empty_dir_mount"], "field": ["use_field_path_as_env"],
       "node_affinity": ["add_node_affinity", "add_node_affinity_json"],
       "security_context": ["set_security_context"], "volume": ["add_ephemeral_volume", "mount_pvc"]}


@pytest.mark.parametrize("module", sorted(NEW))
def test_same_modules_names_and_signatures_as_kfp(module):
    pytest.importorskip("kfp.kubernetes")
    ours, theirs = (importlib.import_module(f"{root}.kubernetes.{module}") for root in ("conveyor", "kfp"))
    for name in NEW[module]:
        mine, kfp = inspect.signature(getattr(ours, name)), inspect.signature(getattr(theirs, name))
        assert [(p.name, p.default) for p in mine.parameters.values()] == \
            [(p.name, p.default) for p in kfp.parameters.values()], name
        assert getattr(importlib.import_module("conveyor.kubernetes"), name) is getattr(ours, name)


@dsl.component
def noop() -> None:
    """The task the settings below are applied to; what it runs does not matter."""


def _term(term: dict) -> dict:
    """kfp's platform-spec term (snake_case keys come out camelCase) as the pod's NodeSelectorTerm."""
    out = {}
    for key in ("matchExpressions", "matchFields"):
        if term.get(key):
            out[key] = [{k: v for k, v in r.items() if v} for r in term[key]]
    return out


def test_pod_spec_matches_kfp_platform_spec(tmp_path):
    kfp = _kfp_executor(tmp_path)
    pod = _pod(compile_workflow(load_module_file(FIXTURE).k8s_settings.pipeline_spec,
                                options=CompileOptions(image=TEST_IMAGE)))
    container = pod["container"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    for ref in kfp["emptyDirMounts"]:  # emptyDir: the named volume, its medium and sizeLimit, at mountPath
        assert mounts[ref["mountPath"]]["name"] == ref["volumeName"]
        assert volumes[ref["volumeName"]]["emptyDir"] == {k: ref[k] for k in ("medium", "sizeLimit") if k in ref}
    for ref in kfp["genericEphemeralVolume"]:  # ephemeral.volumeClaimTemplate
        assert mounts[ref["mountPath"]]["name"] == ref["volumeName"]
        template = volumes[ref["volumeName"]]["ephemeral"]["volumeClaimTemplate"]
        assert template["spec"]["accessModes"] == ref["accessModes"]
        assert template["spec"]["resources"] == {"requests": {"storage": ref["size"]}}
        assert template["spec"].get("storageClassName") == (None if ref.get("defaultStorageClass") else
                                                            ref["storageClassName"])
        assert template.get("metadata", {}) == ref.get("metadata", {})
    env = {e["name"]: e.get("valueFrom") for e in container["env"]}
    for ref in kfp["fieldPathAsEnv"]:
        assert env[ref["name"]] == {"fieldRef": {"fieldPath": ref["fieldPath"]}}
    (pvc,) = kfp["pvcMount"]
    assert mounts[pvc["mountPath"]]["subPath"] == pvc["subPath"]
    assert container["securityContext"] == {"runAsUser": int(kfp["securityContext"]["runAsUser"]),
                                            "runAsGroup": int(kfp["securityContext"]["runAsGroup"]),
                                            "runAsNonRoot": kfp["securityContext"]["runAsNonRoot"],
                                            "capabilities": {"drop": ["ALL"]}}
    required, preferred = [], []  # kfp's driver: unweighted terms required, weighted preferred, JSON merged in
    for term in kfp["nodeAffinity"]:
        if "nodeAffinityJson" in term:
            spec = term["nodeAffinityJson"]["runtimeValue"]["constant"]
            required += spec["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
            preferred += spec["preferredDuringSchedulingIgnoredDuringExecution"]
        elif "weight" in term:
            preferred.append({"weight": int(term["weight"]), "preference": _term(term)})
        else:
            required.append(_term(term))
    assert pod["affinity"] == {"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": required},
        "preferredDuringSchedulingIgnoredDuringExecution": preferred}}


def test_unset_settings_leave_the_spec_json_as_before():
    from conveyor import dsl, kubernetes

    @dsl.pipeline
    def p():
        kubernetes.add_pod_label(noop(), "team", "ml")

    (task,) = p.pipeline_spec.to_dict()["tasks"].values()
    assert "empty_dir_mounts" not in task["kubernetes"] and "security_context" not in task["kubernetes"]


LOCAL = """
from conveyor import kubernetes


@dsl.component
def first() -> str:
    import os, pathlib
    for folder in ("SCRATCH", "EPH"):
        assert os.listdir(folder) == [], folder
        (pathlib.Path(folder) / "x").write_text("1")
    (pathlib.Path("DATA") / "f.txt").write_text("in the sub path")
    env = [os.environ["POD_NAME"] == os.environ["CONVEYOR_TASK_ID"], os.environ["NS"], os.environ["TEAM"],
           os.environ["NOTE"], os.environ["IP"], bool(os.environ["NODE"]), len(os.environ["UID"])]
    return os.path.realpath("SCRATCH") + "|" + "|".join(map(str, env))

@dsl.component
def second(before: str) -> str:
    import os
    return f"{os.path.exists(before.split('|')[0])}|{os.listdir('SCRATCH')}|{before.split('|', 1)[1]}"

@dsl.pipeline
def extras(claim: str = "shared") -> str:
    a = first()
    kubernetes.empty_dir_mount(a, volume_name="scratch", mount_path="SCRATCH", medium="Memory", size_limit="1Gi")
    kubernetes.add_ephemeral_volume(a, volume_name="eph", mount_path="EPH", access_modes=["ReadWriteOnce"], size="1Gi")
    kubernetes.mount_pvc(a, pvc_name=claim, mount_path="DATA", sub_path="sub/dir")
    kubernetes.add_pod_label(a, "team", "ml")
    for env, path in [("POD_NAME", "metadata.name"), ("NS", "metadata.namespace"), ("TEAM", "metadata.labels['team']"),
                      ("NOTE", "metadata.annotations['note']"), ("IP", "status.podIP"), ("NODE", "spec.nodeName"),
                      ("UID", "metadata.uid")]:
        kubernetes.use_field_path_as_env(a, env_name=env, field_path=path)
    kubernetes.add_node_affinity(a, match_expressions=[{"key": "zone", "operator": "In", "values": ["a"]}])
    kubernetes.set_security_context(a, run_as_user=12345, run_as_non_root=True)
    b = second(before=a.output)
    kubernetes.empty_dir_mount(b, volume_name="scratch", mount_path="SCRATCH")
    return b.output
"""


def _local(tmp_path) -> str:
    root = tmp_path / "mnt"
    return (LOCAL.replace("SCRATCH", str(root / "scratch")).replace("EPH", str(root / "eph"))
            .replace("DATA", str(root / "data")))


def test_local_run_gives_fresh_folders_sub_paths_and_field_values(home, run_file, write_pipeline, tmp_path):
    result = run_file(write_pipeline(_local(tmp_path), name="extras"))
    assert result.status == "succeeded", result.error
    # the first task's emptyDir was gone once it ended; the second got a fresh, empty one
    assert result.outputs == {"Output": "False|[]|True|local|ml||127.0.0.1|True|36"}
    assert (home / "pvcs" / "shared" / "sub" / "dir" / "f.txt").read_text() == "in the sub path"
    assert not any((home / "runs").glob("*/mounts"))  # nothing of the scratch folders is left


def test_a_field_path_with_no_local_value_is_refused_before_anything_is_recorded(home, runner, write_pipeline,
                                                                                 tmp_path):
    from conveyor.runtime.kube_local import LocalKubernetesError
    from conveyor.runtime.loader import find_pipeline

    body = _local(tmp_path).replace('("UID", "metadata.uid")', '("UID", "metadata.uid"), ("SA", "spec.serviceAccountName")')
    spec = find_pipeline(write_pipeline(body, name="nosa"), "extras").pipeline_spec
    with pytest.raises(LocalKubernetesError, match=r"task 'first': env SA reads the pod field "
                                                   r"'spec.serviceAccountName', which has no local value"):
        runner.run(spec, {})
    assert runner.store.list_runs() == []


_AFFINITY = {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": []}]}}
BAD = [
    (lambda k, t: k.empty_dir_mount(t, volume_name="", mount_path="/s"), "volume_name", "DNS-1123 label"),
    (lambda k, t: k.empty_dir_mount(t, volume_name="Bad_Name", mount_path="/s"), "volume_name", "DNS-1123 label"),
    (lambda k, t: k.empty_dir_mount(t, volume_name="pvc-0", mount_path="/s"), "volume_name", "conveyor gives"),
    (lambda k, t: k.empty_dir_mount(t, volume_name="s", mount_path="rel/s"), "mount_path", "absolute path"),
    (lambda k, t: k.empty_dir_mount(t, volume_name="s", mount_path="/s", medium="Disk"), "medium", "'Disk' is not"),
    (lambda k, t: k.empty_dir_mount(t, volume_name="s", mount_path="/s", size_limit="lots"), "size_limit", "quantity"),
    (lambda k, t: k.add_ephemeral_volume(k.empty_dir_mount(t, volume_name="s", mount_path="/s"), volume_name="s",
                                         mount_path="/e", access_modes=["ReadWriteOnce"], size="1Gi"),
     "volume_name", "already defined"),
    (lambda k, t: k.add_ephemeral_volume(t, volume_name="e", mount_path="/e", access_modes=["ReadWriteSome"],
                                         size="1Gi"), "access_modes", "non-empty list of ReadWriteOnce"),
    (lambda k, t: k.add_ephemeral_volume(t, volume_name="e", mount_path="/e", access_modes=["ReadWriteOnce"],
                                         size="big"), "size", "quantity"),
    (lambda k, t: k.use_field_path_as_env(t, env_name="X", field_path="spec.containers"), "field_path",
     "'spec.containers' is not a field"),
    (lambda k, t: k.use_field_path_as_env(t, env_name="", field_path="metadata.name"), "env_name", "non-empty"),
    (lambda k, t: k.add_node_affinity(t, match_expressions=[{"key": "z", "operator": "Near"}]), "match_expressions",
     "operator 'Near' for key 'z'"),
    (lambda k, t: k.add_node_affinity(t, match_fields=[{"operator": "In"}]), "match_fields", "non-empty 'key'"),
    (lambda k, t: k.add_node_affinity(t), "match_expressions", "at least one"),
    (lambda k, t: k.add_node_affinity(t, match_expressions=[{"key": "z", "operator": "Exists"}], weight=101),
     "weight", "1 to 100"),
    (lambda k, t: k.add_node_affinity_json(t, {"required": {}}), "node_affinity_json", "nodeAffinity dict"),
    (lambda k, t: k.add_node_affinity_json(t, {**_AFFINITY, "preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 0, "preference": {}}]}), "node_affinity_json", "weight"),
    (lambda k, t: k.set_security_context(t), "run_as_user", "at least one"),
    (lambda k, t: k.set_security_context(t, run_as_user=-1), "run_as_user", ">= 0"),
    (lambda k, t: k.set_security_context(t, run_as_group=True), "run_as_group", ">= 0"),
    (lambda k, t: k.set_security_context(t, run_as_non_root="yes"), "run_as_non_root", "bool"),
    (lambda k, t: k.mount_pvc(t, pvc_name="c", mount_path="/d", sub_path="../up"), "sub_path", "relative path"),
    (lambda k, t: k.mount_pvc(t, pvc_name="c", mount_path="/d", sub_path="/abs"), "sub_path", "relative path"),
]


@pytest.mark.parametrize(("call", "argument", "message"), BAD)
def test_bad_input_is_an_authoring_error_naming_task_and_argument(call, argument, message):
    from conveyor import dsl, kubernetes
    from conveyor.ir import PipelineDefinitionError

    @dsl.pipeline
    def bad():
        call(kubernetes, noop())

    with pytest.raises(PipelineDefinitionError, match=message) as info:
        _ = bad.pipeline_spec
    assert info.value.task == "noop" and info.value.argument == argument


def test_a_pipeline_parameter_as_node_affinity_json_is_refused():
    from conveyor import dsl, kubernetes
    from conveyor.ir import PipelineDefinitionError

    @dsl.pipeline
    def bad(affinity: dict = {}):  # noqa: B006 - kfp's style
        kubernetes.add_node_affinity_json(noop(), affinity)

    with pytest.raises(PipelineDefinitionError, match="pipeline parameter or task output is not supported"):
        _ = bad.pipeline_spec


def test_an_empty_node_affinity_json_is_no_constraint_and_drops_an_earlier_one():
    """kfp accepts {} (its own test pipelines use it): no affinity, and it replaces an earlier JSON call."""
    from conveyor import dsl, kubernetes
    from conveyor.compiler.argo import CompileOptions, compile_workflow

    @dsl.pipeline
    def empty():
        task = noop()
        kubernetes.add_node_affinity_json(task, _AFFINITY)
        kubernetes.add_node_affinity_json(task, {})

    manifest = compile_workflow(empty.pipeline_spec, options=CompileOptions(image="x:1"))
    (pod,) = [t for t in manifest["spec"]["templates"] if "container" in t]
    assert not pod.get("affinity")


def test_two_volumes_at_one_mount_path_do_not_compile():
    from conveyor import dsl, kubernetes
    from conveyor.compiler.argo import CompileError

    @dsl.pipeline
    def twice():
        t = noop()
        kubernetes.empty_dir_mount(t, volume_name="a", mount_path="/same")
        kubernetes.use_secret_as_volume(t, secret_name="s", mount_path="/same")

    with pytest.raises(CompileError, match="mount path '/same' is used twice in one pod"):
        compile_workflow(twice.pipeline_spec, options=CompileOptions(image=TEST_IMAGE))
