"""A real S3 API (moto server) and a fault-injecting proxy in front of it.

Why a server and not ``moto.mock_aws``: the artifact store must be exercised over
HTTP exactly as against AWS (endpoint_url, signing, retries), and an out-of-process
server cannot be reset behind our back by another test's in-process mock.

Why the proxy: the reliability suite needs S3 to answer 500/503 for a while and
then recover.  ``s3_faulty_proxy.fail_next(n, status)`` makes the next ``n``
requests fail with a proper S3 XML error (so boto3 classifies and retries them
as it would against AWS); every other request is forwarded unchanged to moto.
"""

from __future__ import annotations

import http.client
import os
import sys
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

import pytest

from tests.services import common

ACCESS_KEY = "testing"
SECRET_KEY = "testing"
REGION = "us-east-1"
IMAGE = "motoserver/moto:5.0.28"


@dataclass
class S3Endpoint:
    """Where an S3 client should point, plus helpers to make one and to create buckets."""

    endpoint_url: str
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    region: str = REGION

    def client(self, **config_kwargs):
        """A boto3 S3 client for this endpoint; path-style addressing because there is no DNS."""
        import boto3
        from botocore.config import Config

        config = Config(s3={"addressing_style": "path"}, **config_kwargs)
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=config,
        )

    def create_bucket(self, name: str | None = None) -> str:
        """Create a bucket (a unique name when none is given) and return its name."""
        name = name or f"bucket-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def env(self) -> dict[str, str]:
        """Environment variables that point boto3-based code (without explicit args) here."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL_S3": self.endpoint_url,
        }


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[S3Endpoint]:
    """A moto S3 server on a free loopback port (a container when Docker answers)."""
    if common.docker_available():
        yield from _container_endpoint()
        return
    workdir = common.service_dir("moto")
    env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}

    def make() -> common.ServiceProcess:
        port = common.free_port()
        argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
        proc = common.ServiceProcess("moto", argv, workdir, env=env)
        proc.url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
        return proc

    with common.running("s3_endpoint", make, lambda p: lambda: common.http_ok(p.url + "/moto-api/")) as proc:  # type: ignore[attr-defined]
        yield S3Endpoint(endpoint_url=proc.url)  # type: ignore[attr-defined]


def _container_endpoint() -> Iterator[S3Endpoint]:
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import wait_for_logs

    try:
        container = DockerContainer(IMAGE).with_exposed_ports(5000)
        container.start()
        wait_for_logs(container, "Running on", timeout=30)
    except Exception as exc:
        common.unavailable(f"s3: container {IMAGE} failed to start: {exc}")
    try:
        url = f"http://{container.get_container_host_ip()}:{container.get_exposed_port(5000)}"
        yield S3Endpoint(endpoint_url=url)
    finally:
        container.stop()


# --- fault injection ----------------------------------------------------------------------------

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization"}


@dataclass
class FaultyProxy(S3Endpoint):
    """An S3Endpoint whose requests pass through a proxy that can be told to fail."""

    upstream: str = ""
    requests_seen: int = 0
    faults_served: int = 0
    _pending: list[tuple[int, str | None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, n: int, status: int = 503, retry_after: str | None = None) -> None:
        """Answer the next ``n`` requests with ``status`` (S3 XML error body) instead of forwarding."""
        with self._lock:
            self._pending.extend([(status, retry_after)] * n)

    def reset(self) -> None:
        with self._lock:
            self._pending.clear()
            self.requests_seen = 0
            self.faults_served = 0

    def _take_fault(self) -> tuple[int, str | None] | None:
        with self._lock:
            self.requests_seen += 1
            if self._pending:
                self.faults_served += 1
                return self._pending.pop(0)
            return None


_CODES = {500: "InternalError", 502: "BadGateway", 503: "SlowDown", 504: "GatewayTimeout"}


def _make_handler(proxy: FaultyProxy) -> type[BaseHTTPRequestHandler]:
    upstream = urllib.request.urlparse(proxy.upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet: pytest shows failures
            pass

        def _body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass  # trailers
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _handle(self) -> None:
            body = self._body()
            fault = proxy._take_fault()
            if fault is not None:
                status, retry_after = fault
                code = _CODES.get(status, "InternalError")
                payload = (
                    f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
                    f"<Message>injected by s3_faulty_proxy</Message><RequestId>fault</RequestId></Error>"
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(payload)))
                if retry_after is not None:
                    self.send_header("Retry-After", retry_after)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            headers["Content-Length"] = str(len(body))
            conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response_only(resp.status, resp.reason)  # upstream sends Date/Server
                head = self.command == "HEAD"  # a HEAD answer keeps upstream's Content-Length
                for k, v in resp.getheaders():
                    if k.lower() not in _HOP_BY_HOP and (head or k.lower() != "content-length"):
                        self.send_header(k, v)
                if not head:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
            finally:
                conn.close()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

    return Handler


@pytest.fixture(scope="session")
def _s3_proxy_session(s3_endpoint: S3Endpoint) -> Iterator[FaultyProxy]:
    proxy = FaultyProxy(endpoint_url="", upstream=s3_endpoint.endpoint_url, access_key=s3_endpoint.access_key,
                        secret_key=s3_endpoint.secret_key, region=s3_endpoint.region)
    with common.serve_in_thread(_make_handler(proxy), "s3-faulty-proxy") as proxy.endpoint_url:
        yield proxy


@pytest.fixture
def s3_faulty_proxy(_s3_proxy_session: FaultyProxy) -> Iterator[FaultyProxy]:
    """S3 through a proxy: ``.fail_next(n, status=503, retry_after=None)``, counters reset per test."""
    _s3_proxy_session.reset()
    yield _s3_proxy_session
    _s3_proxy_session.reset()

