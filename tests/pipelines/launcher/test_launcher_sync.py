"""`conveyor sync`: Workflows that ended unwatched (scheduled runs above all) get their final state.

The CronWorkflow is created by the real ``schedule``; what Argo would spawn from it is built from
that stored object, and its pods run for real (``ArgoDriver``) against SQLite + a local artifact
folder, so the run rows sync finds are the ones pods write.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from conveyor.cli.app import app
from conveyor.launcher import schedule, submit, sync
from conveyor.launcher.sync import CRON_LABEL, list_workflows
from tests.pipelines.launcher.test_cluster_cli import _profile_file
from tests.pipelines.runtime import pod_pipelines as pp
from tests.pipelines.runtime.argo_driver import METADATA_SECRET, ArgoDriver


def _spawn(kube, cluster, name: str, phase: str, run_pods: bool = True, nodes: dict | None = None) -> dict:
    """What Argo does at a scheduled time: a Workflow from the CronWorkflow, labelled with it; its pods run."""
    cron = kube.objects[("ml", "cronworkflows", "pod-train")]
    labels = dict(cron["spec"]["workflowMetadata"]["labels"]) | {CRON_LABEL: "pod-train"}
    workflow = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                "metadata": {"name": name, "namespace": "ml", "labels": labels, "creationTimestamp": f"2026-12-01T03:00:{name[-2:]}Z"},
                "spec": json.loads(json.dumps(cron["spec"]["workflowSpec"]))}
    if run_pods:
        results = ArgoDriver(workflow, {METADATA_SECRET: cluster.metadata_url}, cluster.workdir / name, name).run()
        nodes = {f"{name}-{i}": {"id": f"{name}-{i}", "name": f"{name}.{node}", "displayName": node, "type": "Pod",
                                 "phase": "Succeeded" if r.succeeded else "Failed",
                                 "inputs": {"parameters": [{"name": "conveyor-task", "value": r.task}]}}
                 for i, (node, r) in enumerate(results.items())}
    workflow["status"] = {"phase": phase, "nodes": nodes or {}}
    kube.objects[("ml", "workflows", name)] = workflow
    return workflow


def _snapshot(cluster) -> dict:
    with cluster.store() as store:
        runs = store.list_runs(limit=100)
        return {r.run_id: (r.status, r.error, r.ended_at, r.outputs,
                           [(t.task_id, t.status, t.error, t.ended_at) for t in store.list_tasks(r.run_id)],
                           [(a.id, a.status) for a in store.list_attempts(r.run_id)]) for r in runs}


def test_sync_closes_finished_scheduled_runs_leaves_running_ones_and_is_idempotent(local_cluster, kube):
    schedule(pp.train_pipeline.pipeline_spec, "0 3 * * *", local_cluster.profile, client=kube, arguments={"lr": 0.5})
    _spawn(kube, local_cluster, "pod-train-01", "Succeeded")
    _spawn(kube, local_cluster, "pod-train-02", "Running")  # its pods are done, the controller is not
    _spawn(kube, local_cluster, "pod-train-03", "Failed", run_pods=False, nodes={  # its one pod never started
        "n1": {"id": "n1", "name": "pod-train-03.make-data", "displayName": "make-data", "type": "Pod", "phase": "Failed",
               "message": "ImagePullBackOff: image not found",
               "inputs": {"parameters": [{"name": "conveyor-task", "value": "make-data"}]}}})
    kube.objects[("ml", "workflows", "not-ours")] = {"metadata": {"name": "not-ours", "labels": {}},
                                                     "status": {"phase": "Failed"}}
    with local_cluster.store() as store:
        before = {r.run_id: r.status for r in store.list_runs(limit=100)}
    assert before == {"pod-train-01": "running", "pod-train-02": "running"}  # what the pods left behind

    results = {r.workflow: r for r in sync(local_cluster.profile, client=kube)}
    assert ("list", {"namespace": "ml", "plural": "workflows", "label_selector": "conveyor.dev/pipeline",
                     "limit": 200, "continue": None}) in kube.calls
    assert {w: (r.run_id, r.action, r.status) for w, r in results.items()} == {
        "pod-train-01": ("pod-train-01", "closed", "succeeded"),
        "pod-train-02": ("pod-train-02", "running", "running"),
        "pod-train-03": ("pod-train-03", "created", "failed")}
    assert results["pod-train-03"].error == "task make-data: ImagePullBackOff: image not found"
    assert {r.schedule for r in results.values()} == {"pod-train"}

    with local_cluster.store() as store:
        done = store.get_run("pod-train-01")
        assert done.status == "succeeded" and done.ended_at is not None and store.consistency_report(done.run_id).ok
        assert {t.task_id: t.status for t in store.list_tasks("pod-train-01")} == {
            "make-data": "succeeded", "train": "succeeded", "report": "succeeded"}
        assert done.outputs == {}  # train_pipeline declares no outputs; mirror recorded what it has
        assert store.get_run("pod-train-02").status == "running"
        created = store.get_run("pod-train-03")
        assert (created.status, created.pipeline_name) == ("failed", "pod-train")
        assert created.arguments == {"rows": "10", "lr": "0.5"}
        assert created.labels["schedule"] == "pod-train" and created.labels["workflow"] == "pod-train-03"
        tasks = {t.task_id: (t.status, t.error) for t in store.list_tasks("pod-train-03")}
        assert tasks == {"make-data": ("failed", "ImagePullBackOff: image not found"),
                         "train": ("skipped", "not started: the run failed first"),
                         "report": ("skipped", "not started: the run failed first")}

    first = _snapshot(local_cluster)
    again = sync(local_cluster.profile, client=kube)
    assert {r.workflow: r.action for r in again} == {"pod-train-01": "unchanged", "pod-train-02": "running",
                                                      "pod-train-03": "unchanged"}
    assert _snapshot(local_cluster) == first

    kube.objects[("ml", "workflows", "pod-train-02")]["status"]["phase"] = "Succeeded"  # the controller catches up
    (late,) = [r for r in sync(local_cluster.profile, client=kube) if r.workflow == "pod-train-02"]
    assert (late.action, late.status) == ("closed", "succeeded")


def test_sync_closes_an_unwatched_submit_by_its_run_id(local_cluster, kube):
    """Submitted without --watch: the pods' CONVEYOR_RUN_ID names the run, even where neither the
    Workflow name nor the (63-character) label can hold the run id."""
    spec = pp.train_pipeline.pipeline_spec
    run_id = "Nightly_Train.v2-" + "x" * 60
    run = submit(spec, {"lr": 0.75}, local_cluster.profile, client=kube, run_id=run_id)
    (manifest,) = kube.created()
    name = manifest["metadata"]["name"]
    assert run_id not in (name, manifest["metadata"]["labels"]["conveyor.dev/run-id"])
    local_cluster.run(manifest=manifest)
    stored = kube.objects[("ml", "workflows", name)]
    stored["status"] = {"phase": "Failed", "message": "Stopped with strategy 'Terminate'", "nodes": {}}
    (result,) = sync(local_cluster.profile, client=kube)
    assert (result.run_id, result.action, result.status) == (run_id, "closed", "failed")
    assert result.error == "Stopped with strategy 'Terminate'"
    with local_cluster.store() as store:
        assert store.get_run(run.run_id).status == "failed"


def test_list_follows_pagination(kube):
    for second, name in enumerate(("a", "b", "c")):
        kube.objects[("ml", "workflows", name)] = {"metadata": {"name": name,
                                                                "creationTimestamp": f"2026-12-01T03:00:0{second}Z",
                                                                "labels": {"conveyor.dev/pipeline": "p"}}}
    assert [w.metadata.name for w in list_workflows(kube, "ml", page=2)] == ["a", "b", "c"]
    assert [c[1]["continue"] for c in kube.calls] == [None, "2"]


def test_sync_cli_json_and_summary(local_cluster, kube, tmp_path: Path, monkeypatch):
    schedule(pp.train_pipeline.pipeline_spec, "0 3 * * *", local_cluster.profile, client=kube)
    _spawn(kube, local_cluster, "pod-train-01", "Succeeded")
    monkeypatch.setattr("conveyor.launcher.kube.custom_objects", lambda profile: kube)
    profile = _profile_file(tmp_path, local_cluster)
    result = CliRunner().invoke(app, ["sync", "--profile", str(profile), "--json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert (row["run_id"], row["action"], row["status"], row["phase"]) == ("pod-train-01", "closed", "succeeded",
                                                                           "Succeeded")
    human = CliRunner().invoke(app, ["sync", "--profile", str(profile)])
    assert human.exit_code == 0, human.output
    assert "1 Workflow(s) in ml: 0 recorded, 0 still running, 1 already final" in human.output
    missing = CliRunner().invoke(app, ["sync"])
    assert missing.exit_code == 2 and "no profile" in missing.output
