"""DSL features on a real Argo controller: exit handlers, retries, control flow, rejected manifests,
schedules. Each test has its own namespace, database and bucket (``tenant``) and watches its pods."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from tests.cluster.pods import PodRecorder

pytestmark = pytest.mark.e2e

PIPELINES = str(Path(__file__).with_name("e2e_pipelines.py"))


def target(name: str) -> str:
    return f"{PIPELINES}:{name}"


def run_json(proc) -> dict:
    assert proc.returncode in (0, 1), f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout)


@pytest.mark.parametrize("fail", [False, True], ids=["success", "failure"])
def test_exit_handler_notifies_the_webhook_with_the_final_status(tenant, platform, fail):
    with PodRecorder(platform.cluster.api, tenant.namespace) as pods:
        proc = tenant.submit(target("exit_handler"), "-p", f"fail={str(fail).lower()}", "--watch", "--json")
    data = run_json(proc)
    assert proc.returncode == (1 if fail else 0), data
    assert data["status"] == ("failed" if fail else "succeeded")
    bodies = [r.json for r in platform.webhook.wait_for(1, timeout=30)]
    assert len(bodies) == 1, bodies
    report = bodies[0]
    assert report["run_id"] == data["run_id"] and report["pipeline"] == "e2e-exit-handler"
    assert report["status"] == ("failed" if fail else "succeeded"), report
    # The failed task by name (from Argo's {{workflow.failures}}), not the workflow's own DAG node.
    assert report["failed_task"] == ("maybe-fail" if fail else None), report
    assert pods.count_by_task() == {"maybe-fail": 1, "notify": 1}


def test_permanent_error_gets_exactly_one_pod(tenant, platform):
    with PodRecorder(platform.cluster.api, tenant.namespace) as pods:
        proc = tenant.submit(target("permanent"), "--watch", "--json")
    data = run_json(proc)
    assert proc.returncode == 1 and data["status"] == "failed"
    assert pods.count_by_task() == {"fail-permanently": 1}, pods.count_by_task()
    assert pods.for_task("fail-permanently")[0].exit_codes.get("main") == 3
    with tenant.store() as store:
        attempts = store.list_attempts(data["run_id"], "fail-permanently")
    assert [(a.status, a.failure_class) for a in attempts] == [("failed", "permanent")], attempts
    assert "bad input: permanent" in (data["error"] or "") or any(
        "bad input: permanent" in (t["error"] or "") for t in data["tasks"]), data


def test_transient_error_retries_with_backoff(tenant, platform):
    key = f"counters/{uuid.uuid4().hex}"
    with PodRecorder(platform.cluster.api, tenant.namespace) as pods:
        proc = tenant.submit(target("transient"), "-p", f"bucket={tenant.bucket}", "-p", f"key={key}",
                             "-p", "fail_times=2", "--watch", "--json")
    data = run_json(proc)
    assert proc.returncode == 0 and data["status"] == "succeeded", data
    tries = pods.for_task("flaky")
    assert len(tries) == 3, [(p.name, p.phase) for p in tries]
    assert [p.exit_codes.get("main") for p in tries] == [4, 4, 0] or \
        [p.exit_codes.get("main") for p in tries][-1] == 0
    # main container finishedAt (kubelet) -> next pod's creationTimestamp (API server): both whole
    # seconds, so each gap is exact to about 1 s. Backoff 4 s, then 8 s (factor 2).
    gaps = [tries[i + 1].created - tries[i].finished["main"] for i in range(2)]
    assert gaps[0] >= 3 and gaps[1] >= 7 and gaps[1] > gaps[0], gaps
    with tenant.store() as store:
        attempts = store.list_attempts(data["run_id"], "flaky")
    assert [a.status for a in attempts] == ["failed", "failed", "succeeded"], attempts
    assert {a.failure_class for a in attempts[:2]} == {"transient"}


def test_control_flow_condition_parallelism_and_dynamic_fan_out(tenant, platform):
    with PodRecorder(platform.cluster.api, tenant.namespace) as pods:
        proc = tenant.submit(target("control_flow"), "-p", "n=4", "-p", "flag=no", "--watch", "--json")
    data = run_json(proc)
    assert proc.returncode == 0 and data["status"] == "succeeded", data
    counts = pods.count_by_task()
    assert "never" not in counts, counts  # the false condition created no pod
    assert counts["square"] == 4, counts  # dynamic fan-out over make-items' output
    assert data["outputs"] == {"Output": 1 + 4 + 9 + 16}, data["outputs"]
    assert counts["nap"] == 5
    assert pods.max_running["nap"] == 2, pods.max_running  # parallelism 2, and it did run in parallel
    by_task = {t["task"]: t["status"] for t in data["tasks"]}
    assert by_task["never"] == "skipped", by_task


def test_rejected_pod_surfaces_the_api_servers_message(tenant, platform):
    runs_before = _runs(tenant)
    proc = tenant.submit(target("bad_label"), "--watch", "--timeout", "120", "--json")
    data = run_json(proc)
    assert proc.returncode == 1 and data["status"] == "failed", data
    error = data["error"] or ""
    assert "hello" in error, error  # names the task
    assert "label" in error.lower() and "invalid" in error.lower(), error  # the API server's words
    with tenant.store() as store:
        run = store.get_run(data["run_id"])
        tasks = {t.task_id: t.status for t in store.list_tasks(data["run_id"])}
    assert run.status == "failed" and tasks == {"hello": "failed"}, tasks
    assert len(_runs(tenant)) == len(runs_before) + 1


def _runs(tenant) -> list:
    with tenant.store() as store:
        return store.list_runs(limit=1000)


def test_schedule_fires_a_cron_workflow_and_sync_records_it(tenant, platform):
    proc = tenant.conveyor("schedule", target("tiny"), "--cron", "* * * * *", "--profile", str(tenant.profile_path),
                           "--name", "e2e-every-minute", "--json")
    assert proc.returncode == 0, proc.stderr
    deadline = time.monotonic() + 150
    done = None
    while time.monotonic() < deadline and done is None:
        for wf in tenant.workflows():
            if (wf.get("status") or {}).get("phase") in ("Succeeded", "Failed", "Error"):
                done = wf
        time.sleep(2)
    assert done is not None, f"no scheduled Workflow ended: {[w['metadata']['name'] for w in tenant.workflows()]}"
    assert done["status"]["phase"] == "Succeeded", done["status"].get("message")
    name = done["metadata"]["name"]
    assert name.startswith("e2e-every-minute-")
    synced = tenant.conveyor("sync", "--profile", str(tenant.profile_path), "--json")
    assert synced.returncode == 0, synced.stderr
    rows = {r["workflow"]: r for r in json.loads(synced.stdout)}
    assert rows[name]["status"] == "succeeded", rows
    with tenant.store() as store:
        runs = [r for r in store.list_runs(limit=100) if r.pipeline_name == "e2e-tiny"]
        assert runs and all(r.status == "succeeded" for r in runs), runs
        tasks = store.list_tasks(runs[0].run_id)
    assert [(t.task_id, t.status) for t in tasks] == [("hello", "succeeded")]
    again = json.loads(tenant.conveyor("sync", "--profile", str(tenant.profile_path), "--json").stdout)
    assert {r["action"] for r in again if r["workflow"] == name} == {"unchanged"}  # idempotent
