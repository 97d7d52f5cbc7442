"""A real recording webhook receiver on loopback, for the notification tests.

Why not mocks: retries, timeouts, Retry-After and connection refusal are
behaviours of real sockets; only a real server exercises them. The receiver
records method, path, headers and JSON body of every request, and is switched
between modes: ``ok``, ``fail`` (first N requests answer a status, e.g. 503),
``always`` (every request answers a status), ``hang`` (accept, never answer).
``closed_port_url`` gives a URL nothing listens on.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def json(self):
        return json.loads(self.body.decode("utf-8"))


@dataclass
class WebhookReceiver:
    host: str
    port: int
    requests: list[Recorded] = field(default_factory=list)
    mode: str = "ok"
    fail_status: int = 503
    fail_times: int = 0
    retry_after: str | None = None
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hooks/T000/B000/secret-token-abcdef") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def set_ok(self) -> None:
        self.mode = "ok"

    def fail_n_times(self, n: int, status: int = 503, retry_after: str | None = None) -> None:
        self.mode, self.fail_times, self.fail_status, self.retry_after = "fail", n, status, retry_after

    def always(self, status: int = 500, retry_after: str | None = None) -> None:
        self.mode, self.fail_status, self.retry_after = "always", status, retry_after

    def hang(self) -> None:
        self.mode = "hang"


def _handler_for(receiver: WebhookReceiver):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # keep test output clean
            pass

        def _answer(self, status: int, body: bytes = b"ok") -> None:
            self.send_response(status)
            if status != 200 and receiver.retry_after is not None:
                self.send_header("Retry-After", receiver.retry_after)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with receiver.lock:
                receiver.requests.append(
                    Recorded(self.command, self.path, dict(self.headers.items()), body, time.monotonic())
                )
                count = len(receiver.requests)
            if receiver.mode == "hang":
                receiver.release.wait(30)
                return
            if receiver.mode == "always" or (receiver.mode == "fail" and count <= receiver.fail_times):
                self._answer(receiver.fail_status, b"upstream unavailable")
                return
            self._answer(200)

        do_PUT = do_POST

    return Handler


@pytest.fixture
def webhook_receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)
    receiver = WebhookReceiver("127.0.0.1", server.server_address[1])
    server.RequestHandlerClass = _handler_for(receiver)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL whose port was just bound and released, so connecting is refused."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/hooks/closed-secret-path-123456"
