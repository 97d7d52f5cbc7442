"""The platform the e2e scenarios run on: Argo on the harness cluster, a task image, real services.

``start_platform`` (the session fixture ``platform`` in ``conftest.py``) does what a platform team
does for a team namespace, with the same upstream parts:

* Argo v4 (``argo_build``): its CRDs from the module's manifests, the argoexec image imported into
  the node's containerd as ``pins.ARGOEXEC_IMAGE``, and the workflow-controller out-of-cluster with
  the harness kubeconfig, managing every namespace (one fresh namespace per test);
* the task image, built by ``conveyor image build`` from the training example (the conveyor
  runtime + its packages) and imported into containerd; profiles name it through ``image_registry``
  (``conveyor.local``), so the compiler points every pod at it and nothing is pulled;
* Postgres, the moto S3 server and the webhook receiver, bound to the bridge gateway
  (``cluster.gateway``), the only host address pods may use. Postgres admits the pod network.

``Tenant`` (fixture ``tenant``) is one namespace with the run service account and its executor
RBAC, the Secrets the profile names (``conveyor-metadata``: the DB URL; ``conveyor-pod-env``: the
S3 endpoint and keys and the notify webhook, as envFrom), a fresh database and bucket, and the
connection profile file that ``conveyor submit --profile`` reads.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.cluster import argo_build, argo_install, harness, pins
from tests.services import common, postgres, s3, webhook

REPO = Path(__file__).resolve().parents[2]
TRAINING = REPO / "pipelines" / "examples" / "training.py"
REGISTRY = "conveyor.local"
SERVICE_ACCOUNT = "conveyor-workflow"
POD_ENV_SECRET = "conveyor-pod-env"
CONTROLLER_NAMESPACE = "argo"
CONVEYOR = str(Path(sys.executable).with_name("conveyor"))


class PlatformError(RuntimeError):
    """A platform step failed; names the step and the log to read."""

    def __init__(self, step: str, log: Path | str, detail: str = "") -> None:
        super().__init__(f"e2e platform step '{step}' failed; see {log}" + (f"\n{detail}" if detail else ""))


@dataclass
class Platform:
    cluster: Any  # conftest.Cluster
    argo: argo_build.ArgoBuild
    controller: argo_install.Controller
    postgres: postgres.PostgresServer
    s3: s3.S3Endpoint
    webhook: webhook.WebhookReceiver
    image: str
    timings: dict = field(default_factory=dict)


def cache_dir() -> Path:
    return argo_build.cache_root() / "e2e"


# Layers pods never import (the import-linter contract keeps the runtime below them): editing them
# does not change what a pod runs, so it does not rebuild the task image.
HOST_ONLY = ("cli", "launcher", "compiler", "ui", "platform")


def source_key() -> str:
    """Digest of the sources pods run: the task image is rebuilt whenever that code changes (the
    image tag itself only names the runtime version and the packages)."""
    digest = hashlib.sha256()
    root = REPO / "pipelines" / "conveyor"
    pod_code = [p for p in root.rglob("*.py") if p.relative_to(root).parts[0] not in HOST_ONLY]
    for path in sorted([*pod_code, REPO / "pyproject.toml"]):
        digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def task_image_ref() -> str:
    from conveyor.compiler.argo.images import task_image
    from conveyor.runtime.loader import find_pipeline

    return task_image(find_pipeline(str(TRAINING)).pipeline_spec, REGISTRY)


def build_task_image(ref: str) -> tuple[Path, float]:
    """``conveyor image build`` of the training example into a cached OCI archive (per source key)."""
    out = cache_dir() / f"{ref.rsplit(':', 1)[-1]}-{source_key()}.oci.tar"
    if out.exists():
        return out, 0.0
    out.parent.mkdir(parents=True, exist_ok=True)
    # CI's background prebuild and the platform fixture may ask at once: the second waits, then reuses.
    with out.with_suffix(".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if out.exists():
            return out, 0.0
        return out, _build_task_image(ref, out)


def _build_task_image(ref: str, out: Path) -> float:
    log = out.with_suffix(".log")
    t0 = time.monotonic()
    with log.open("w") as fh:
        rc = subprocess.run([CONVEYOR, "image", "build", str(TRAINING), "--tag", ref, "-o", str(out)], cwd=REPO,
                            stdout=fh, stderr=subprocess.STDOUT, env={**os.environ, "CONVEYOR_HOME": str(out.parent)},
                            ).returncode
    if rc != 0 or not out.exists():
        raise PlatformError("conveyor image build", log, common.tail(log, 20))
    return round(time.monotonic() - t0, 1)


def _node_images() -> list[str]:
    layout = harness.Layout(Path(harness.default_root()))
    ctr = harness.build.component_dir(pins.CONTAINERD) / "bin" / "ctr"
    return subprocess.run([str(ctr), "--address", str(layout.containerd_sock), "-n", "k8s.io", "images", "ls", "-q"],
                          capture_output=True, text=True).stdout.split()


def ensure_imported(ref: str, archive: Path) -> None:
    """Import ``archive`` into the node's containerd and check that ``ref`` is there. A reused node
    that already imported this very archive (a marker per archive file name, which carries the
    source key) is left alone: importing 230 MB takes a minute on a busy machine."""
    layout = harness.Layout(Path(harness.default_root()))
    marker = layout.root / "e2e-imported" / archive.name
    if marker.exists() and ref in _node_images():
        return
    harness.import_archive(archive)
    listed = _node_images()
    if ref not in listed:
        raise PlatformError(f"import {archive.name}", layout.logs / "images.log", f"{ref} not in {listed}")
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(ref + "\n")


@contextlib.contextmanager
def gateway_services(gateway: str) -> Iterator[tuple[postgres.PostgresServer, s3.S3Endpoint, webhook.WebhookReceiver]]:
    """Postgres, moto and the webhook receiver listening on the bridge gateway only."""
    pg_dir = common.service_dir("postgres-e2e")
    pg = postgres._start_binaries(pg_dir, host=gateway, allow_cidr=pins.POD_CIDR)
    moto_dir = common.service_dir("moto-e2e")

    def make_moto() -> common.ServiceProcess:
        port = common.free_port()
        env = {**os.environ, "AWS_ACCESS_KEY_ID": s3.ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": s3.SECRET_KEY}
        proc = common.ServiceProcess("moto-e2e", [sys.executable, "-m", "moto.server", "-H", gateway, "-p", str(port)],
                                     moto_dir, env=env)
        proc.url = f"http://{gateway}:{port}"  # type: ignore[attr-defined]
        return proc

    receiver = webhook.WebhookReceiver()
    try:
        with common.running("e2e_moto", make_moto, lambda p: lambda: common.http_ok(p.url + "/moto-api/")) as moto, \
                common.serve_in_thread(webhook._handler(receiver), "e2e-webhook", host=gateway) as receiver.base_url:
            yield pg, s3.S3Endpoint(endpoint_url=moto.url), receiver  # type: ignore[attr-defined]
    finally:
        receiver.reset()
        with contextlib.suppress(Exception):
            pg.stop("fast")
        common.cleanup_dir(pg_dir)


@contextlib.contextmanager
def start_platform(cluster: Any) -> Iterator[Platform]:

    timings: dict = {}
    t0 = time.monotonic()
    try:
        build = argo_build.build()
    except argo_build.BuildError as exc:
        raise PlatformError("build argo", exc.log, str(exc)) from exc
    timings["argo_build_s"] = round(time.monotonic() - t0, 1)
    ensure_imported(pins.ARGOEXEC_IMAGE, build.argoexec_image)
    ref = task_image_ref()
    archive, timings["task_image_build_s"] = build_task_image(ref)
    t1 = time.monotonic()
    ensure_imported(ref, archive)
    timings["task_image_import_s"] = round(time.monotonic() - t1, 1)
    argo_install.install_crds(cluster.api, build)
    argo_install.install_controller_config(cluster.api, CONTROLLER_NAMESPACE)
    log = Path(cluster.info.root) / "logs" / "workflow-controller.log"
    controller = argo_install.start_controller(Path(cluster.kubeconfig), build, CONTROLLER_NAMESPACE, log,
                                               namespaced=False)
    try:
        time.sleep(1.0)
        if not controller.alive():
            raise PlatformError("start workflow-controller", log, common.tail(log, 20))
        with gateway_services(cluster.gateway) as (pg, s3e, receiver):
            yield Platform(cluster, build, controller, pg, s3e, receiver, ref, timings)
    finally:
        controller.stop()


@dataclass
class Tenant:
    """One team namespace on the platform, with its profile (see the module docstring)."""

    platform: Platform
    namespace: str
    db_url: str
    bucket: str
    profile_path: Path
    home: Path

    @property
    def artifact_root(self) -> str:
        return f"s3://{self.bucket}/artifacts"

    def storage_env(self) -> dict[str, str]:
        """What a laptop run needs to use the same stores as the cluster (`conveyor run`)."""
        return {**self.platform.s3.env(), "CONVEYOR_METADATA_URL": self.db_url,
                "CONVEYOR_ARTIFACT_ROOT": self.artifact_root}

    def cli_env(self, env: dict[str, str] | None = None, home: Path | None = None) -> dict[str, str]:
        return {**os.environ, **self.platform.s3.env(), "CONVEYOR_HOME": str(home or self.home), "COLUMNS": "200",
                **(env or {})}

    def conveyor(self, *args: str, timeout: float = 600, env: dict[str, str] | None = None,
                 home: Path | None = None) -> subprocess.CompletedProcess:
        """Run the real CLI as a user would (own CONVEYOR_HOME; S3 keys for the client side)."""
        return subprocess.run([CONVEYOR, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout,
                              env=self.cli_env(env, home))

    def popen(self, *args: str) -> subprocess.Popen:
        """The CLI in the background, for tests that act on the cluster while it watches."""
        return subprocess.Popen([CONVEYOR, *args], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=self.cli_env())

    def submit(self, target: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return self.conveyor("submit", target, "--profile", str(self.profile_path), *args, timeout=timeout)

    def store(self):
        from conveyor.stores.metadata import open_metadata_store

        return open_metadata_store(self.db_url)

    def workflows(self) -> list[dict]:
        from kubernetes import client

        objs = client.CustomObjectsApi(self.platform.cluster.api)
        return objs.list_namespaced_custom_object("argoproj.io", "v1alpha1", self.namespace, "workflows")["items"]


def tenant_profile(platform: Platform, namespace: str, db_url: str, artifact_root: str, **extra: Any) -> dict:
    return {"cloud": "existing", "region": "local", "environment": "e2e",
            "kubeconfig": Path(platform.cluster.kubeconfig).read_text(), "namespace": namespace,
            "service_account": SERVICE_ACCOUNT, "artifact_root": artifact_root, "metadata_url": db_url,
            "image_registry": REGISTRY, "pod_env_secret": POD_ENV_SECRET, **extra}


@contextlib.contextmanager
def open_tenant(platform: Platform, tmp: Path, **profile_extra: Any) -> Iterator[Tenant]:
    from kubernetes import client

    from tests.cluster.kube import wait_for

    api = platform.cluster.api
    core = client.CoreV1Api(api)
    namespace = f"e2e-{uuid.uuid4().hex[:8]}"
    argo_install.install_namespace(api, namespace, SERVICE_ACCOUNT)
    wait_for(lambda: core.read_namespaced_service_account(SERVICE_ACCOUNT, namespace), 60, "service account")
    with postgres.fresh_database(platform.postgres) as db_url:
        bucket = platform.s3.create_bucket(f"e2e-{namespace}")
        pod_env = {**platform.s3.env(), "CONVEYOR_NOTIFY_WEBHOOK": platform.webhook.url("/hooks/e2e")}
        for name, data in (("conveyor-metadata", {"url": db_url}), (POD_ENV_SECRET, pod_env)):
            core.create_namespaced_secret(namespace, client.V1Secret(
                metadata=client.V1ObjectMeta(name=name), string_data=data))
        profile = tenant_profile(platform, namespace, db_url, f"s3://{bucket}/artifacts", **profile_extra)
        tmp.mkdir(parents=True, exist_ok=True)
        path = tmp / "profile.json"
        path.write_text(json.dumps(profile))
        path.chmod(0o600)
        home = tmp / "home"
        home.mkdir()
        try:
            yield Tenant(platform, namespace, db_url, bucket, path, home)
        finally:
            with contextlib.suppress(Exception):
                core.delete_namespace(namespace, grace_period_seconds=0)
