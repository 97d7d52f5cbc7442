"""Fixtures of the real single-node cluster (``harness.py``), for the ``e2e`` tests.

The e2e tests run only when ``CONVEYOR_E2E=1`` (``make e2e`` sets it): building
Kubernetes cold takes a long time and the cluster needs root, so a plain ``make
test`` skips them and says why.  With ``CONVEYOR_E2E=1`` a machine that cannot run
the cluster (no root, no Go, no overlayfs...) skips with the reason, or fails when
``CONVEYOR_REQUIRE_SERVICES=1`` (CI); a build or start failure on a capable machine
fails, naming the step and its log.  A cluster already started by ``make
cluster-up`` is reused and left running; otherwise the session starts one and
tears it down at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.cluster import harness
from tests.services.common import unavailable

E2E_ENV = "CONVEYOR_E2E"


def e2e_enabled() -> bool:
    return os.environ.get(E2E_ENV, "").strip().lower() in {"1", "true", "yes"}


def pytest_collection_modifyitems(config, items) -> None:
    if e2e_enabled():
        return
    skip = pytest.mark.skip(reason=f"real-cluster e2e test: set {E2E_ENV}=1 (or run `make e2e`) to run it")
    for item in items:
        if item.get_closest_marker("e2e") is not None:  # not keywords: they hold path names (a dir called e2e)
            item.add_marker(skip)


@dataclass(frozen=True)
class Cluster:
    info: harness.ClusterInfo
    api: object  # kubernetes.client.ApiClient

    @property
    def kubeconfig(self) -> str:
        return self.info.kubeconfig

    @property
    def gateway(self) -> str:
        """The only host address pods may use: the cluster bridge's gateway."""
        return self.info.gateway


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    from kubernetes import config

    reason = harness.preflight()
    if reason:
        unavailable(f"test cluster unavailable: {reason}")
    info = harness.running()
    started = info is None
    if started:
        try:
            info = harness.up()
        except (harness.build.BuildError, harness.StartError) as exc:
            # The machine passed preflight and e2e was asked for: a broken build or start is a failure.
            pytest.fail(str(exc), pytrace=False)
    api = config.new_client_from_config(config_file=info.kubeconfig)
    try:
        yield Cluster(info, api)
    finally:
        api.close()
        if started:
            result = harness.down()
            print(f"\ncluster timings: {info.timings} teardown: {result}")
            assert not result["leftovers"], f"cluster teardown left these behind: {result['leftovers']}"


@pytest.fixture
def namespace(cluster: Cluster) -> Iterator[str]:
    """A fresh namespace per test (with its default service account), deleted afterwards."""
    from kubernetes import client

    from tests.cluster.kube import wait_for

    core = client.CoreV1Api(cluster.api)
    name = f"t-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    wait_for(lambda: core.read_namespaced_service_account("default", name), 60, f"service account in {name}")
    try:
        yield name
    finally:
        core.delete_namespace(name, grace_period_seconds=0)


@pytest.fixture(scope="session")
def platform(cluster: Cluster):
    """Argo + the task image + gateway-bound Postgres/moto/webhook on the cluster (``platform.py``)."""
    from tests.cluster.platform import PlatformError, start_platform

    try:
        ctx = start_platform(cluster)
        plat = ctx.__enter__()
    except (PlatformError, harness.StartError, harness.build.BuildError) as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield plat
    finally:
        ctx.__exit__(None, None, None)


@pytest.fixture
def tenant(platform, tmp_path):
    """A fresh team namespace with its Secrets, database, bucket and profile file."""
    from tests.cluster.platform import open_tenant

    platform.webhook.reset()
    with open_tenant(platform, tmp_path) as t:
        yield t
