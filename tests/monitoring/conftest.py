"""Real Pushgateway and Prometheus servers for the monitoring end-to-end tests.

Why real servers: the delivery code reads the gateway's exposition back and merges it, and the
alert rules depend on how Prometheus scrapes a gateway (honor_labels); only the real binaries
prove those agree. Both run on free loopback ports in temp dirs and are stopped afterwards.
A missing binary skips the test with the reason, or fails it under CONVEYOR_REQUIRE_SERVICES=1
(the policy lives in tests/services/common.py). Module-scoped: one pair serves a test module.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.services.common import (
    ServiceProcess,
    cleanup_dir,
    find_binary,
    free_port,
    register,
    service_dir,
    start_with_retries,
    unavailable,
    unregister,
)

SCRAPE_INTERVAL_S = 1


def _http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=1) as resp:
        return resp.status == 200


@dataclass
class Pushgateway:
    url: str
    service: ServiceProcess


@dataclass
class Prometheus:
    url: str
    service: ServiceProcess

    def query(self, expr: str) -> list[dict]:
        """Instant query; the `result` list of the HTTP API's answer."""
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        with urllib.request.urlopen(url, timeout=5) as resp:
            body = json.load(resp)
        assert body["status"] == "success", body
        return body["data"]["result"]

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=5) as resp:
            body = json.load(resp)
        assert body["status"] == "success", body
        return body["data"]

    def wait_value(self, expr: str, expected: float, timeout: float = 20.0) -> float:
        """Poll until `expr` returns one sample equal to `expected`; fail with the last answer."""
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            last = self.query(expr)
            if len(last) == 1 and abs(float(last[0]["value"][1]) - expected) < 1e-9:
                return expected
            time.sleep(0.25)
        pytest.fail(f"{expr!r} never became {expected} within {timeout}s; last answer: {last}")


@pytest.fixture(scope="module")
def pushgateway() -> Iterator[Pushgateway]:
    binary = find_binary("prometheus-pushgateway", "prometheus-pushgateway") or find_binary(
        "pushgateway", "prometheus-pushgateway"
    )
    if binary is None:
        unavailable("pushgateway: neither prometheus-pushgateway nor pushgateway is on PATH")
    workdir = service_dir("pushgateway")

    def make() -> ServiceProcess:
        port = free_port()
        # Debian's build defaults --persistence.file to /var/lib/prometheus/pushgateway.data, which
        # would share (and leak) pushed groups between test runs; empty means memory only.
        argv = [binary, f"--web.listen-address=127.0.0.1:{port}", "--persistence.file="]
        return ServiceProcess("pushgateway", argv, workdir)

    def url_of(svc: ServiceProcess) -> str:
        return "http://" + svc.argv[1].split("=", 1)[1]

    svc = start_with_retries(make, lambda s: lambda: _http_ok(url_of(s) + "/-/ready"))
    register("pushgateway", svc)
    try:
        yield Pushgateway(url_of(svc), svc)
    finally:
        unregister("pushgateway")
        svc.stop()
        cleanup_dir(workdir)


RULES_GLOB = Path(__file__).resolve().parents[2] / "components" / "assets" / "monitoring" / "rules" / "*.yaml"


def prometheus_config(pushgateway_hostport: str) -> str:
    """Scrape the gateway like kube-prometheus-stack does (honor_labels keeps pipeline/instance)
    and load the rules the monitoring component deploys, so the real server evaluates them."""
    return (
        "global:\n"
        f"  scrape_interval: {SCRAPE_INTERVAL_S}s\n"
        f"  evaluation_interval: {SCRAPE_INTERVAL_S}s\n"
        f"rule_files: ['{RULES_GLOB}']\n"
        "scrape_configs:\n"
        "  - job_name: pushgateway\n"
        "    honor_labels: true\n"
        "    static_configs:\n"
        f"      - targets: ['{pushgateway_hostport}']\n"
    )


@pytest.fixture(scope="module")
def prometheus(pushgateway: Pushgateway) -> Iterator[Prometheus]:
    binary = find_binary("prometheus", "prometheus")
    if binary is None:
        unavailable("prometheus: the prometheus binary is not on PATH (Debian package `prometheus`)")
    workdir = service_dir("prometheus")
    config = workdir / "prometheus.yml"
    config.write_text(prometheus_config(pushgateway.url.removeprefix("http://")))

    def make() -> ServiceProcess:
        port = free_port()
        data = Path(workdir) / f"data-{port}"
        argv = [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{port}",
        ]
        return ServiceProcess("prometheus", argv, workdir)

    def url_of(svc: ServiceProcess) -> str:
        return "http://" + svc.argv[3].split("=", 1)[1]

    svc = start_with_retries(make, lambda s: lambda: _http_ok(url_of(s) + "/-/ready"), timeout=30.0)
    register("prometheus", svc)
    try:
        yield Prometheus(url_of(svc), svc)
    finally:
        unregister("prometheus")
        svc.stop()
        cleanup_dir(workdir)
