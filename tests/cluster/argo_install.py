"""Install Argo onto the harness cluster: CRDs, the executor's RBAC, and the controller out-of-cluster.

The controller runs as a host process with the harness kubeconfig (no controller image is needed);
pods use the locally built argoexec image (``argo_build``), which the node must already have
imported (``ctr -n k8s.io images import``), hence pull policy ``Never``. The executor's only API
need is creating and patching ``workflowtaskresults`` in the run namespace (emissary executor).

Status: written against the v4.0.5 manifests and flags; the k8s harness that starts the API
server lands separately, so ``install``/``start_controller`` have not yet run against a live one.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.cluster import pins
from tests.cluster.argo_build import ArgoBuild, BuildError

CRDS = ("workflows", "workflowtemplates", "cronworkflows", "clusterworkflowtemplates", "workflowtaskresults",
        "workflowtasksets", "workflowartifactgctasks", "workfloweventbindings")


def executor_rbac(namespace: str, service_account: str) -> list[dict]:
    """Role + RoleBinding + ServiceAccount for task pods (the emissary executor's minimum)."""
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "conveyor-executor", "namespace": namespace},
            "rules": [{"apiGroups": ["argoproj.io"], "resources": ["workflowtaskresults"],
                       "verbs": ["create", "patch"]}]}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "conveyor-executor", "namespace": namespace},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "conveyor-executor"},
               "subjects": [{"kind": "ServiceAccount", "name": service_account, "namespace": namespace}]}
    account = {"apiVersion": "v1", "kind": "ServiceAccount",
               "metadata": {"name": service_account, "namespace": namespace}}
    return [account, role, binding]


def crd_documents(build: ArgoBuild) -> list[dict]:
    docs = []
    for name in CRDS:
        path = build.manifests / "base" / "crds" / "full" / f"argoproj.io_{name}.yaml"
        if not path.exists():
            raise BuildError("install CRDs", path, f"{path.name} is not in the module's manifests")
        docs.append(yaml.safe_load(path.read_text()))
    return docs


def install(kubeconfig: Path, build: ArgoBuild, namespace: str, service_account: str) -> None:
    """Create (or keep) the CRDs, the namespace and the executor RBAC."""
    from kubernetes import client, config, utils
    from kubernetes.client.rest import ApiException

    api = config.new_client_from_config(str(kubeconfig))
    try:
        client.CoreV1Api(api).create_namespace({"metadata": {"name": namespace}})
    except ApiException as exc:
        if exc.status != 409:
            raise
    for doc in [*crd_documents(build), *executor_rbac(namespace, service_account)]:
        try:
            utils.create_from_dict(api, doc)
        except utils.FailToCreateError as exc:
            if any(getattr(e, "status", None) != 409 for e in exc.api_exceptions):
                raise


@dataclass
class Controller:
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_controller(kubeconfig: Path, build: ArgoBuild, namespace: str, log: Path) -> Controller:
    """``workflow-controller`` out-of-cluster, namespaced to ``namespace``, executor image pinned."""
    env = {**os.environ, "LEADER_ELECTION_DISABLE": "true", "KUBECONFIG": str(kubeconfig)}
    argv = [str(build.controller), "--kubeconfig", str(kubeconfig), "--namespace", namespace, "--namespaced",
            "--managed-namespace", namespace, "--executor-image", pins.ARGOEXEC_IMAGE,
            "--executor-image-pull-policy", "Never"]
    log.parent.mkdir(parents=True, exist_ok=True)
    fh = log.open("w")
    return Controller(subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, env=env), log)
