"""A real GCS JSON/XML API (gcp-storage-emulator) for the GCS artifact store.

Why the emulator over a fake client: google-cloud-storage is exercised end to end
(resumable and simple uploads, downloads, listing) through ``STORAGE_EMULATOR_HOST``,
the same switch the SDK documents for emulators, so the store code under test is
exactly the code that runs against GCS.  The emulator runs as its own process,
in memory, on a free loopback port.
"""

from __future__ import annotations

import contextlib
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.services import common

PROJECT = "conveyor-test"
IMAGE = "oittaa/gcp-storage-emulator:v2024.8.3"


@dataclass
class GCSEndpoint:
    """``endpoint`` is the value for STORAGE_EMULATOR_HOST (``http://127.0.0.1:PORT``)."""

    endpoint: str
    project: str = PROJECT

    def client(self):
        """A google-cloud-storage client with anonymous credentials pointed at the emulator."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        return storage.Client(
            project=self.project,
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": self.endpoint},
        )

    def create_bucket(self, name: str | None = None) -> str:
        """Create a bucket (a unique name when none is given) and return its name."""
        name = name or f"bucket-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(name)
        return name

    def env(self) -> dict[str, str]:
        """Environment that points any google-cloud-storage client in this process or a child here."""
        return {"STORAGE_EMULATOR_HOST": self.endpoint, "GOOGLE_CLOUD_PROJECT": self.project}


def _ready(url: str) -> bool:
    with urllib.request.urlopen(f"{url}/storage/v1/b?project={PROJECT}", timeout=1) as resp:
        return resp.status == 200


@pytest.fixture(scope="session")
def gcs_endpoint() -> Iterator[GCSEndpoint]:
    """gcp-storage-emulator on a free loopback port (a container when Docker answers)."""
    if common.docker_available():
        yield from _container_endpoint()
        return
    workdir = common.service_dir("gcs")

    def make() -> common.ServiceProcess:
        port = common.free_port()
        argv = [sys.executable, "-m", "gcp_storage_emulator", "start",
                "--host", "127.0.0.1", "--port", str(port), "--in-memory"]
        proc = common.ServiceProcess("gcp-storage-emulator", argv, workdir)
        proc.url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
        return proc

    with common.running("gcs_endpoint", make, lambda p: lambda: _ready(p.url)) as proc:  # type: ignore[attr-defined]
        yield GCSEndpoint(endpoint=proc.url)  # type: ignore[attr-defined]


def _container_endpoint() -> Iterator[GCSEndpoint]:
    from testcontainers.core.container import DockerContainer

    try:
        container = (
            DockerContainer(IMAGE)
            .with_command("start --host 0.0.0.0 --port 9023 --in-memory")
            .with_exposed_ports(9023)
        )
        container.start()
        url = f"http://{container.get_container_host_ip()}:{container.get_exposed_port(9023)}"
        import time

        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(Exception):
                if _ready(url):
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("emulator did not answer within 30s")
            time.sleep(0.2)
    except Exception as exc:
        common.unavailable(f"gcs: container {IMAGE} failed to start: {exc}")
    try:
        yield GCSEndpoint(endpoint=url)
    finally:
        container.stop()


@pytest.fixture
def gcs_emulator_env(gcs_endpoint: GCSEndpoint, monkeypatch: pytest.MonkeyPatch) -> GCSEndpoint:
    """Sets STORAGE_EMULATOR_HOST (and the project) for one test, for code that builds its own client."""
    for key, value in gcs_endpoint.env().items():
        monkeypatch.setenv(key, value)
    return gcs_endpoint
