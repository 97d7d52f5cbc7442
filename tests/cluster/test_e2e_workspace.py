"""dsl.PipelineConfig workspaces on a real controller: the Workflow's volumeClaimTemplates claim a PVC,
the real PV controller binds it to a PersistentVolume of the pipeline's storage class, both pods mount
it at /kfp-workspace one after the other (the second reads what the first wrote), and Argo deletes the
claim when the run ends.

The harness has no dynamic provisioner, so the test creates the one hostPath PV (a folder on the
single node) that the pipeline's ``pvcSpecPatch`` storage class selects; what binds, mounts and
deletes is Kubernetes and Argo.
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

import pytest

from tests.cluster.e2e_pipelines import WORKSPACE_CLASS
from tests.cluster.pods import PodRecorder

pytestmark = pytest.mark.e2e

PIPELINES = str(Path(__file__).with_name("e2e_pipelines.py"))


@contextlib.contextmanager
def hostpath_volume(api, folder: Path, name: str):
    from kubernetes import client

    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o1777)  # task pods run as a non-root user
    core = client.CoreV1Api(api)
    core.create_persistent_volume(client.V1PersistentVolume(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PersistentVolumeSpec(
            capacity={"storage": "1Gi"}, access_modes=["ReadWriteOnce"], storage_class_name=WORKSPACE_CLASS,
            persistent_volume_reclaim_policy="Retain",
            host_path=client.V1HostPathVolumeSource(path=str(folder), type="Directory"))))
    try:
        yield core
    finally:
        with contextlib.suppress(Exception):
            core.delete_persistent_volume(name)


def test_a_workspace_is_one_claim_both_pods_share(tenant, platform):
    folder = Path(platform.cluster.info.root) / "e2e-workspaces" / tenant.namespace
    with hostpath_volume(platform.cluster.api, folder, f"ws-{tenant.namespace}") as core, \
            PodRecorder(platform.cluster.api, tenant.namespace) as pods:
        proc = tenant.submit(f"{PIPELINES}:workspace", "-p", "text=from the first pod", "--watch", "--json")
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    data = json.loads(proc.stdout)
    assert data["status"] == "succeeded" and data["outputs"] == {"Output": "from the first pod"}, data
    assert pods.count_by_task() == {"write-note": 1, "read-note": 1}
    assert (folder / "note.txt").read_text() == "from the first pod"  # it went through the bound PV
    with tenant.store() as store:
        rows = {t.task_name: t for t in store.list_tasks(data["run_id"])}
    assert rows["write-note"].outputs["parameters"]["Output"] == "/kfp-workspace"
    deadline = time.monotonic() + 60
    while core.list_namespaced_persistent_volume_claim(tenant.namespace).items and time.monotonic() < deadline:
        time.sleep(1)  # volumeClaimGC: the claim goes when the Workflow ends
    assert core.list_namespaced_persistent_volume_claim(tenant.namespace).items == []
