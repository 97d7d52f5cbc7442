"""Install Argo onto the harness cluster: CRDs, the executor's RBAC, and the controller out-of-cluster.

The controller runs as a host process with the harness kubeconfig (no controller image is needed);
pods use the locally built argoexec image (``argo_build``), which the node must already have
imported (``ctr -n k8s.io images import``), hence pull policy ``Never``. The executor's only API
need is creating and patching ``workflowtaskresults`` in the run namespace (emissary executor).

The e2e fixture (``tests/cluster/platform.py``) runs all of this against the harness's live API server.
"""

from __future__ import annotations

import os
import subprocess
import time
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


def _create(api, doc: dict) -> None:
    """Create one object; an existing one (409) is kept, so a reused cluster installs idempotently."""
    from kubernetes import utils

    try:
        utils.create_from_dict(api, doc)
    except utils.FailToCreateError as exc:
        if any(getattr(e, "status", None) != 409 for e in exc.api_exceptions):
            raise


def install_crds(api, build: ArgoBuild, timeout: float = 60.0) -> None:
    """Create (or keep) Argo's CRDs and wait until the API server serves them (``Established``)."""
    from kubernetes import client

    docs = crd_documents(build)
    for doc in docs:
        _create(api, doc)
    ext = client.ApiextensionsV1Api(api)
    deadline = time.monotonic() + timeout
    for doc in docs:
        name = doc["metadata"]["name"]
        while True:
            conditions = ext.read_custom_resource_definition(name).status.conditions or []
            if any(c.type == "Established" and c.status == "True" for c in conditions):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"CRD {name} not Established after {timeout:.0f}s: {conditions}")
            time.sleep(0.2)


def install_namespace(api, namespace: str, service_account: str) -> None:
    """The namespace (kept if it exists), the run service account and its executor RBAC."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    try:
        client.CoreV1Api(api).create_namespace({"metadata": {"name": namespace}})
    except ApiException as exc:
        if exc.status != 409:
            raise
    for doc in executor_rbac(namespace, service_account):
        _create(api, doc)


def install(kubeconfig: Path, build: ArgoBuild, namespace: str, service_account: str) -> None:
    """CRDs plus one run namespace with its executor RBAC."""
    from kubernetes import config

    api = config.new_client_from_config(str(kubeconfig))
    try:
        install_crds(api, build)
        install_namespace(api, namespace, service_account)
    finally:
        api.close()


def install_controller_config(api, namespace: str) -> None:
    """The controller's ConfigMap (``workflow-controller-configmap``). v4.0.5 exits at start when it is
    missing ("Failed to register watch for controller config map"); the defaults suit the harness."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    core = client.CoreV1Api(api)
    try:
        core.create_namespace({"metadata": {"name": namespace}})
    except ApiException as exc:
        if exc.status != 409:
            raise
    _create(api, {"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": "workflow-controller-configmap", "namespace": namespace}, "data": {}})


@dataclass
class Controller:
    process: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_controller(kubeconfig: Path, build: ArgoBuild, namespace: str, log: Path,
                     namespaced: bool = True) -> Controller:
    """``workflow-controller`` out-of-cluster with the executor image pinned (pull policy Never).

    ``namespace`` is where it reads its (optional) ConfigMap; ``namespaced`` limits it to that
    namespace, otherwise it manages Workflows in every namespace (the e2e tests use one per test)."""
    from components.argo import CONTROLLER_ENV  # the stack's controller settings, here too

    env = {**os.environ, **CONTROLLER_ENV, "LEADER_ELECTION_DISABLE": "true", "KUBECONFIG": str(kubeconfig)}
    argv = [str(build.controller), "--kubeconfig", str(kubeconfig), "--namespace", namespace,
            "--executor-image", pins.ARGOEXEC_IMAGE, "--executor-image-pull-policy", "Never"]
    if namespaced:
        argv += ["--namespaced", "--managed-namespace", namespace]
    log.parent.mkdir(parents=True, exist_ok=True)
    fh = log.open("w")
    return Controller(subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, env=env,
                                       start_new_session=True), log)
