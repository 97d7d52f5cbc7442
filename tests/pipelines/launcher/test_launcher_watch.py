"""Watching a Workflow: node phases streamed as they change, pod logs, the final state mirrored
into the metadata store; plus the CronWorkflow and the kubeconfig handling."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from pydantic import SecretStr

from conveyor.launcher import LaunchError, api_client, mirror, schedule, submit
from tests.pipelines.launcher import launcher_pipelines as lp
from tests.pipelines.launcher.conftest import RecordingCoreV1Api
from tests.pipelines.runtime import pod_pipelines as pp

SCHEMA = Path("/work/shared/schemas/argo-workflows-v4.1.2.schema.json")
for parent in Path(__file__).resolve().parents:
    if (parent / "shared" / "schemas" / SCHEMA.name).exists():
        SCHEMA = parent / "shared" / "schemas" / SCHEMA.name
        break


def _pod(name: str, task: str, phase: str, started: str, message: str | None = None) -> dict:
    node = {"id": name, "name": f"wf.{name}", "displayName": name, "type": "Pod", "phase": phase, "startedAt": started,
            "inputs": {"parameters": [{"name": "conveyor-task", "value": task}]}}
    return node | ({"message": message} if message else {})


def test_watch_streams_node_phases_and_logs_and_mirrors_success(local_cluster, kube):
    spec = pp.train_pipeline.pipeline_spec
    local_cluster.run(spec)
    original_get = kube.get_namespaced_custom_object
    ran = {}

    def controller_get(group, version, namespace, plural, name, **kw):
        if not ran:  # the controller runs the pods of what was created, then reports
            ran["nodes"] = local_cluster.run(manifest=kube.created()[0])[1]
        return original_get(group, version, namespace, plural, name, **kw)

    kube.get_namespaced_custom_object = controller_get
    kube.statuses.extend([
        {"phase": "Running", "nodes": {"n1": _pod("train", "train", "Running", "2026-12-01T03:00:01Z")}},
        {"phase": "Running", "nodes": {"n1": _pod("train", "train", "Succeeded", "2026-12-01T03:00:01Z"),
                                       "n2": _pod("report", "report", "Pending", "2026-12-01T03:00:02Z")}},
        {"phase": "Succeeded", "nodes": {"n1": _pod("train", "train", "Succeeded", "2026-12-01T03:00:01Z"),
                                         "n2": _pod("report", "report", "Succeeded", "2026-12-01T03:00:02Z")}},
    ])
    core = RecordingCoreV1Api({"n1": "wf-train-1", "n2": "wf-report-2"}, {"wf-train-1": "trained\n",
                                                                           "wf-report-2": "reported\n"})
    events, logs, sleeps = [], [], []
    run = submit(spec, {"lr": 0.5}, local_cluster.profile, client=kube, core=core, watch=True,
                 on_event=lambda e: events.append((e.task, e.phase)), on_log=lambda e, t: logs.append((e.task, t)),
                 sleep=sleeps.append, poll_s=0.5)
    assert events == [("train", "Running"), ("train", "Succeeded"), ("report", "Pending"), ("report", "Succeeded")]
    assert logs == [("train", "trained\n"), ("report", "reported\n")]
    assert ("log", "wf-train-1", "main") in core.calls and sleeps == [0.5, 0.5]
    assert run.status == "succeeded" and run.error is None
    assert {t["name"]: t["status"] for t in run.tasks} == {"make-data": "cached", "train": "succeeded",
                                                           "report": "succeeded"}
    with local_cluster.store() as store:
        assert store.get_run(run.run_id).status == "succeeded"
        assert store.consistency_report(run.run_id).ok


def test_mirror_closes_vanished_pods_and_records_tasks_that_never_ran(local_cluster):
    spec = pp.train_pipeline.pipeline_spec
    with local_cluster.store() as store:
        store.create_run("r1", spec.name, spec.digest(), spec.to_json(), {}, status="running")
        store.upsert_task("r1", "make-data", task_name="make-data", status="running")
        store.finish_attempt(store.start_attempt("r1", "make-data", 1), "succeeded")
        store.upsert_task("r1", "make-data", status="succeeded", outputs={"parameters": {}, "artifacts": {}})
        store.upsert_task("r1", "train", task_name="train", status="running")  # its pod was OOM-killed
        store.start_attempt("r1", "train", 1)
        workflow = {"spec": {}, "status": {"phase": "Failed", "message": "child failed", "nodes": {
            "a": _pod("make-data", "make-data", "Succeeded", "2026-12-01T03:00:00Z"),
            "b": _pod("train", "train", "Failed", "2026-12-01T03:00:01Z", "OOMKilled (exit code 137)")}}}
        assert mirror(store, spec, "r1", workflow) == ("failed", "task train: OOMKilled (exit code 137)")
        tasks = {t.task_id: t for t in store.list_tasks("r1")}
        assert (tasks["train"].status, tasks["train"].error) == ("failed", "OOMKilled (exit code 137)")
        (attempt,) = store.list_attempts("r1", "train")
        assert (attempt.status, attempt.failure_class) == ("failed", "killed")
        assert (tasks["report"].status, tasks["report"].error) == ("skipped", "not started: the run failed first")
        run = store.get_run("r1")
        assert run.status == "failed" and run.ended_at is not None
        assert store.consistency_report("r1").ok
        assert mirror(store, spec, "r1", {"status": {"phase": "Running"}}) == ("running", None)


def test_watch_timeout_leaves_the_run_running(local_cluster, kube):
    spec = pp.sleep_pipeline.pipeline_spec
    kube.statuses.append({"phase": "Running", "nodes": {}})
    run = submit(spec, {}, local_cluster.profile, client=kube, watch=True, timeout_s=0, sleep=lambda s: None)
    assert run.status == "running" and run.workflow
    with local_cluster.store() as store:
        assert store.get_run(run.run_id).status == "running"


def test_cron_workflow_manifest_is_schema_valid(local_cluster, kube):
    created = schedule(lp.train_with_exit.pipeline_spec, "0 3 * * *", local_cluster.profile, client=kube,
                       arguments={"lr": 0.5})
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:160]}" for e in
              jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).iter_errors(kube.created("cronworkflows")[0])]
    assert not errors, errors[:5]
    spec = created["spec"]
    assert spec["schedules"] == ["0 3 * * *"] and spec["concurrencyPolicy"] == "Forbid"
    params = {p["name"]: p.get("value") for p in spec["workflowSpec"]["arguments"]["parameters"]}
    assert params["lr"] == "0.5" and "conveyor-spec" in params  # embedded: a schedule outlives any upload
    assert local_cluster.metadata_url not in json.dumps(created)

    with pytest.raises(LaunchError, match="already exists; pass --replace"):
        schedule(lp.train_with_exit.pipeline_spec, "0 4 * * *", local_cluster.profile, client=kube)
    replaced = schedule(lp.train_with_exit.pipeline_spec, "0 4 * * *", local_cluster.profile, client=kube,
                        replace=True)
    assert replaced["spec"]["schedules"] == ["0 4 * * *"] and replaced["metadata"]["resourceVersion"] == "1"
    with local_cluster.store() as store:  # recorded for `conveyor ui` (next firing from the cron)
        [recorded] = store.browser().schedules()
    assert (recorded.name, recorded.cron, recorded.pipeline_name) == (
        created["metadata"]["name"], "0 4 * * *", lp.train_with_exit.pipeline_spec.name)
    with pytest.raises(Exception, match="5-field cron"):
        schedule(lp.train_with_exit.pipeline_spec, "every day", local_cluster.profile, client=kube)


KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://k8s.example:6443", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: sup3r-s3cret-t0ken}}]
contexts: [{name: ctx, context: {cluster: c, user: u}}]
current-context: ctx
"""


def test_kubeconfig_is_loaded_in_memory_and_never_quoted(local_cluster):
    profile = local_cluster.profile.model_copy(update={"kubeconfig": SecretStr(KUBECONFIG)})
    client = api_client(profile)
    assert client.configuration.host == "https://k8s.example:6443"
    broken = profile.model_copy(update={"kubeconfig": SecretStr("token: sup3r-s3cret-t0ken\n  - [")})
    with pytest.raises(LaunchError) as err:
        api_client(broken)
    assert "sup3r" not in str(err.value) and "kubeconfig" in str(err.value)
    no_context = profile.model_copy(update={"kubeconfig": SecretStr(KUBECONFIG.replace("current-context: ctx", "")
                                                                    .replace("ctx", "other"))})
    with pytest.raises(LaunchError) as err:
        api_client(no_context)
    assert "sup3r" not in str(err.value)
