"""GPU placement on the real scheduler: a GPU no node has, and a spot pod evicted onto on-demand.

The harness has one node and no GPU. The tests play the pools with what Kubernetes itself offers:
the node advertises ``nvidia.com/gpu`` as an extended resource (a PATCH of its status, the
documented way to advertise one), and a node label says which pool it belongs to right now.

How the preemption test proves placement: the profile's spot pool and its on-demand fallback
differ only in ``e2e.conveyor.dev/capacity`` (``spot`` / ``on-demand``). The node starts as
``spot``; once the first pod runs, the test relabels the node ``on-demand`` (the spot capacity is
gone) and evicts the pod through the Eviction API (SIGTERM, like a spot reclaim). A retry that still
asked for spot could never be scheduled again; the retry must run to success, and its recorded
nodeSelector must say ``on-demand`` while the first pod's says ``spot``.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.cluster.platform import open_tenant
from tests.cluster.pods import PodRecorder

pytestmark = pytest.mark.e2e

PIPELINES = str(Path(__file__).with_name("e2e_pipelines.py"))
POOL_LABEL = "e2e.conveyor.dev/capacity"
GPU = "nvidia.com/gpu"


def _patch_node(platform, labels: dict | None = None, gpus: int | None = None, remove_gpus: bool = False) -> None:
    from kubernetes import client

    core = client.CoreV1Api(platform.cluster.api)
    name = platform.cluster.info.node_name
    if labels is not None:
        core.patch_node(name, {"metadata": {"labels": labels}})
    if gpus is not None:
        core.patch_node_status(name, {"status": {"capacity": {GPU: str(gpus)}}})
    if remove_gpus:
        node = core.read_node(name)
        if GPU in (node.status.capacity or {}):
            path = "/status/capacity/" + GPU.replace("/", "~1")
            core.api_client.call_api(
                f"/api/v1/nodes/{name}/status", "PATCH", header_params={"Content-Type": "application/json-patch+json"},
                body=[{"op": "remove", "path": path}], auth_settings=["BearerToken"], response_type="object")


@pytest.fixture
def gpu_node(platform):
    """The node advertises one GPU for the test, and forgets it (and the pool label) afterwards."""
    from kubernetes import client

    from tests.cluster.kube import wait_for

    core = client.CoreV1Api(platform.cluster.api)
    _patch_node(platform, labels={POOL_LABEL: "spot"}, gpus=1)
    wait_for(lambda: (core.read_node(platform.cluster.info.node_name).status.allocatable or {}).get(GPU) == "1",
             30, "the node to advertise a GPU")
    try:
        yield
    finally:
        _patch_node(platform, labels={POOL_LABEL: None}, remove_gpus=True)


POOLS = [
    {"name": "e2e-spot", "labels": {POOL_LABEL: "spot"}, "accelerator": "nvidia-a10g", "capacity": "spot",
     "fallback": "e2e-ondemand"},
    {"name": "e2e-ondemand", "labels": {POOL_LABEL: "on-demand"}, "accelerator": "nvidia-a10g",
     "capacity": "on-demand"},
]


def test_gpu_task_without_capacity_is_reported_pending_with_a_bounded_wait(tenant, platform):
    _patch_node(platform, remove_gpus=True)
    t0 = time.monotonic()
    proc = tenant.submit(f"{PIPELINES}:gpu", "--watch", "--max-pending", "15", timeout=300)
    waited = time.monotonic() - t0
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "pending on GPU capacity" in out and "on-gpu" in out, out
    assert "Insufficient nvidia.com/gpu" in out, out  # the scheduler's own reason
    assert waited < 15 + 60, waited  # bounded: the 15 s limit plus submit and pod creation


def _diagnosis(tenant, pods: PodRecorder, err: str = "") -> str:
    """What a failed preemption run looked like: every pod's history and every Argo node's status."""
    lines = [f"pod {p.name}: task={p.task} phases={[ph for _, ph in p.phases]} selector={p.node_selector} "
             f"reason={p.reason} exit={p.exit_codes} deleted={p.deleted}" for p in pods.pods.values()]
    for wf in tenant.workflows():
        status = wf.get("status") or {}
        lines.append(f"workflow {wf['metadata']['name']}: {status.get('phase')} {status.get('message', '')}")
        lines += [f"  node {n.get('displayName')} {n.get('type')} {n.get('phase')} {n.get('message', '')}"
                  for n in (status.get("nodes") or {}).values()]
    return "\n".join(lines) + "\n--- submit stderr ---\n" + err[-3000:]


@pytest.mark.timeout(600)  # waits below: 240 s for the first pod, 6 s, then up to 300 s for the retry
@pytest.mark.parametrize("reclaim", ["evicted", "lost"])
def test_reclaimed_spot_pod_retries_on_the_on_demand_fallback(platform, gpu_node, tmp_path, reclaim):
    """``evicted``: the Eviction API (a drain before a spot reclaim: SIGTERM, then the pod goes).
    ``lost``: the pod is force-deleted, as the pod GC does once a reclaimed node is gone, so the
    controller never sees it end; Argo's defaults then hold the retry back for ten minutes."""
    from kubernetes import client

    core = client.CoreV1Api(platform.cluster.api)
    with open_tenant(platform, tmp_path, gpu_pools=POOLS) as tenant, \
            PodRecorder(platform.cluster.api, tenant.namespace) as pods:
        proc = tenant.popen("submit", f"{PIPELINES}:gpu", "-p", "seconds=25", "--profile", str(tenant.profile_path),
                            "--watch", "--json")
        try:
            first = pods.wait(lambda r: next((p for p in r.for_task("on-gpu") if p.phase == "Running"), None), 240,
                              "the first GPU pod to run")
            time.sleep(6)  # the runtime is inside the task (its SIGTERM handler installed)
            _patch_node(platform, labels={POOL_LABEL: "on-demand"})  # the spot capacity is gone
            if reclaim == "evicted":
                core.create_namespaced_pod_eviction(first.name, tenant.namespace, client.V1Eviction(
                    metadata=client.V1ObjectMeta(name=first.name, namespace=tenant.namespace)))
            else:
                core.delete_namespaced_pod(first.name, tenant.namespace, grace_period_seconds=0)
            reclaimed = time.monotonic()
            retry = pods.wait(lambda r: next((p for p in r.for_task("on-gpu") if p.name != first.name), None),
                              300, "the retry pod")
            retry_after = time.monotonic() - reclaimed
            try:
                out, err = proc.communicate(timeout=300)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
                pytest.fail("the retried run did not finish in 300 s\n" + _diagnosis(tenant, pods, err))
        finally:
            if proc.poll() is None:
                proc.kill()
        data = json.loads(out)
        assert proc.returncode == 0 and data["status"] == "succeeded", _diagnosis(tenant, pods, err)
        # the controller runs with the stack's CONTROLLER_ENV: a lost pod's retry is not held back 10 min
        assert retry_after < 90, (retry_after, retry.name)
        tries = pods.for_task("on-gpu")
        assert len(tries) == 2, _diagnosis(tenant, pods, err)
        assert tries[0].node_selector.get(POOL_LABEL) == "spot"
        assert tries[1].node_selector.get(POOL_LABEL) == "on-demand"
        assert tries[1].phase == "Succeeded"
        with tenant.store() as store:
            attempts = store.list_attempts(data["run_id"], "on-gpu")
        # the runtime records the SIGTERM as a failed attempt of class "preempted" (retried), then the success
        assert [(a.status, a.failure_class) for a in attempts] == [("failed", "preempted"), ("succeeded", None)], \
            attempts
        if reclaim == "evicted":
            assert tries[0].exit_codes.get("main") == 143, tries[0]
