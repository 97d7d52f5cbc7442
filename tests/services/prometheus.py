"""Real Prometheus, Pushgateway and promtool for the metrics and monitoring tests.

Why real binaries: run metrics reach Prometheus by a push to the gateway and a
scrape with ``honor_labels``; the alert rules are checked with ``promtool``.  Only
the real programs prove the metric names, labels and rules agree.

Prometheus scrapes the gateway every second (``SCRAPE_INTERVAL_S``), so a pushed
metric is queryable within ~2 s; ``prometheus_server.poll()`` waits for that. It also
loads and evaluates the alert rules the monitoring component deploys (``RULES_DIR``),
so the monitoring tests see them fire on pushed metrics.

Both servers live for the whole session: tests keep apart by pipeline name, and a
module that needs an empty gateway calls ``pushgateway_server.wipe()``.
Binaries come from the Debian packages ``prometheus`` (with promtool) and
``prometheus-pushgateway``; with a Docker engine, the ``prom/*`` images are used.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.services import common

SCRAPE_INTERVAL_S = 1
RULES_DIR = Path(__file__).resolve().parents[2] / "components" / "assets" / "monitoring" / "rules"
CONTAINER_RULES_DIR = "/etc/prometheus/rules"
PROMETHEUS_IMAGE = "prom/prometheus:v2.53.2"
PUSHGATEWAY_IMAGE = "prom/pushgateway:v1.9.0"


@dataclass
class PushgatewayServer:
    """``url`` is what prometheus_client.push_to_gateway and the metrics code take."""

    url: str
    hostport: str  # how Prometheus reaches it (differs from url only with containers)

    def metrics_text(self) -> str:
        """The gateway's own /metrics exposition: what Prometheus will scrape."""
        with urllib.request.urlopen(self.url + "/metrics", timeout=5) as resp:
            return resp.read().decode()

    def wipe(self) -> None:
        """Delete every pushed group (admin API), for tests that need an empty gateway."""
        req = urllib.request.Request(self.url + "/api/v1/admin/wipe", method="PUT")
        with urllib.request.urlopen(req, timeout=5):
            pass


@dataclass
class PrometheusServer:
    url: str
    scrape_interval_s: float = SCRAPE_INTERVAL_S

    def query(self, expr: str) -> list[dict]:
        """One instant query; the ``result`` list of the HTTP API's answer (may be empty)."""
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        with urllib.request.urlopen(url, timeout=5) as resp:
            body = json.load(resp)
        assert body["status"] == "success", body
        return body["data"]["result"]

    def poll(self, expr: str, timeout: float = 20.0,
             until: Callable[[list[dict]], bool] = bool) -> list[dict]:
        """Repeat ``query(expr)`` until ``until(result)`` (default: non-empty); fail the test on timeout."""
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            last = self.query(expr)
            if until(last):
                return last
            time.sleep(0.2)
        pytest.fail(f"Prometheus query {expr!r} did not match within {timeout}s; last answer: {last}")

    def wait_value(self, expr: str, expected: float, timeout: float = 20.0) -> float:
        """Poll until ``expr`` yields exactly one sample equal to ``expected``."""
        self.poll(expr, timeout, lambda r: len(r) == 1 and abs(float(r[0]["value"][1]) - expected) < 1e-9)
        return expected

    def get(self, path: str) -> dict:
        """``data`` of a successful HTTP API answer, e.g. ``get("/api/v1/rules")``."""
        with urllib.request.urlopen(self.url + path, timeout=5) as resp:
            body = json.load(resp)
        assert body["status"] == "success", body
        return body["data"]

    def targets(self) -> list[dict]:
        return self.get("/api/v1/targets")["activeTargets"]


def prometheus_config(pushgateway_hostport: str, rules_dir: Path | str = RULES_DIR) -> str:
    """Scrape the gateway as kube-prometheus-stack does (honor_labels keeps the pushed job and
    instance) and evaluate the deployed rules, so alerts are tested against real scrapes."""
    return (
        "global:\n"
        f"  scrape_interval: {SCRAPE_INTERVAL_S}s\n"
        f"  evaluation_interval: {SCRAPE_INTERVAL_S}s\n"
        f"rule_files: ['{rules_dir}/*.yaml']\n"
        "scrape_configs:\n"
        "  - job_name: pushgateway\n"
        "    honor_labels: true\n"
        "    static_configs:\n"
        f"      - targets: ['{pushgateway_hostport}']\n"
    )


def find_or_unavailable(*names: str, apt_package: str) -> str:
    """The first of ``names`` on PATH; otherwise skip (or fail under CONVEYOR_REQUIRE_SERVICES=1)."""
    for name in names:
        found = common.find_binary(name, apt_package)
        if found:
            return found
    common.unavailable(f"{names[0]}: not on PATH (Debian package {apt_package!r}; "
                       "CONVEYOR_AUTO_INSTALL=1 as root installs it)")
    raise AssertionError("unreachable")


def promtool_path() -> str:
    """Path of the promtool binary (comes with the Debian ``prometheus`` package)."""
    return find_or_unavailable("promtool", apt_package="prometheus")


@pytest.fixture(scope="session")
def promtool() -> str:
    return promtool_path()


@pytest.fixture(scope="session")
def _prometheus_network() -> Iterator[object | None]:
    """A Docker network shared by the two containers (None when running binaries)."""
    if not common.docker_available():
        yield None
        return
    from testcontainers.core.network import Network

    try:
        network = Network().create()
    except Exception as exc:
        common.unavailable(f"prometheus: cannot create a Docker network for the containers: {exc}")
    try:
        yield network
    finally:
        network.remove()


@pytest.fixture(scope="session")
def pushgateway_server(_prometheus_network) -> Iterator[PushgatewayServer]:
    """A Pushgateway on a free loopback port, admin API enabled (for ``wipe()``)."""
    if _prometheus_network is not None:
        yield from _pushgateway_container(_prometheus_network)
        return
    binary = find_or_unavailable("prometheus-pushgateway", "pushgateway", apt_package="prometheus-pushgateway")
    workdir = common.service_dir("pushgateway")

    def make() -> common.ServiceProcess:
        port = common.free_port()
        argv = [binary, f"--web.listen-address=127.0.0.1:{port}", "--web.enable-admin-api",
                f"--persistence.file={workdir / 'pushgateway.data'}"]
        proc = common.ServiceProcess("pushgateway", argv, workdir)
        proc.hostport = f"127.0.0.1:{port}"  # type: ignore[attr-defined]
        return proc

    with common.running("pushgateway_server", make, lambda p: lambda: common.http_ok(f"http://{p.hostport}/-/ready")) as proc:  # type: ignore[attr-defined]
        yield PushgatewayServer(url=f"http://{proc.hostport}", hostport=proc.hostport)  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def prometheus_server(pushgateway_server: PushgatewayServer, _prometheus_network) -> Iterator[PrometheusServer]:
    """Prometheus on a free loopback port scraping the session's Pushgateway every second and
    evaluating the alert rules the monitoring component deploys."""
    workdir = common.service_dir("prometheus")
    config = workdir / "prometheus.yml"
    in_container = _prometheus_network is not None
    config.write_text(prometheus_config(pushgateway_server.hostport,
                                        CONTAINER_RULES_DIR if in_container else RULES_DIR))
    config.chmod(0o644)
    if in_container:
        yield from _prometheus_container(_prometheus_network, workdir)
        return
    binary = find_or_unavailable("prometheus", apt_package="prometheus")

    def make() -> common.ServiceProcess:
        port = common.free_port()
        argv = [binary, f"--config.file={config}", f"--storage.tsdb.path={Path(workdir) / f'data-{port}'}",
                f"--web.listen-address=127.0.0.1:{port}"]
        proc = common.ServiceProcess("prometheus", argv, workdir)
        proc.url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
        return proc

    with common.running("prometheus_server", make, lambda p: lambda: common.http_ok(p.url + "/-/ready"), timeout=30) as proc:  # type: ignore[attr-defined]
        yield PrometheusServer(url=proc.url)  # type: ignore[attr-defined]


# --- containers (used only where a Docker engine answers) ----------------------------------------

def _wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if common.http_ok(url):
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout}s")


def _pushgateway_container(network) -> Iterator[PushgatewayServer]:
    from testcontainers.core.container import DockerContainer

    try:
        container = (DockerContainer(PUSHGATEWAY_IMAGE).with_command("--web.enable-admin-api")
                     .with_exposed_ports(9091).with_network(network).with_network_aliases("pushgateway"))
        container.start()
        url = f"http://{container.get_container_host_ip()}:{container.get_exposed_port(9091)}"
        _wait_http(url + "/-/ready")
    except Exception as exc:
        common.unavailable(f"pushgateway: container {PUSHGATEWAY_IMAGE} failed to start: {exc}")
    try:
        yield PushgatewayServer(url=url, hostport="pushgateway:9091")
    finally:
        container.stop()


def _prometheus_container(network, workdir: Path) -> Iterator[PrometheusServer]:
    from testcontainers.core.container import DockerContainer

    try:
        container = (DockerContainer(PROMETHEUS_IMAGE)
                     .with_volume_mapping(str(workdir / "prometheus.yml"), "/etc/prometheus/prometheus.yml", "ro")
                     .with_volume_mapping(str(RULES_DIR), CONTAINER_RULES_DIR, "ro")
                     .with_exposed_ports(9090).with_network(network))
        container.start()
        url = f"http://{container.get_container_host_ip()}:{container.get_exposed_port(9090)}"
        _wait_http(url + "/-/ready")
    except Exception as exc:
        common.unavailable(f"prometheus: container {PROMETHEUS_IMAGE} failed to start: {exc}")
    try:
        yield PrometheusServer(url=url)
    finally:
        container.stop()
        common.cleanup_dir(workdir)
