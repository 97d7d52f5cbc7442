"""A Slack-style incoming-webhook receiver that records every request it gets.

Why a real HTTP server: the notifiers' retry, timeout and redaction behaviour only
shows on the wire (status codes, Retry-After, a server that never answers, a port
nobody listens on), so tests assert against what actually arrived.

The server is session-scoped; the ``webhook_receiver`` fixture resets it to "ok"
with an empty record before each test.  Modes:

* ``ok()``                        - 200 with body ``ok`` (what Slack answers);
* ``fail_next(n, 503, retry_after=None)`` - the next n requests fail, then ok again;
* ``always_fail(500)``            - every request fails (``always(status, retry_after)`` adds Retry-After);
* ``hang(seconds)``               - hold each request open longer than a client's timeout;
* ``closed_url()``                - a URL on a loopback port nothing listens on ("endpoint down"),
  also offered as the ``closed_port_url`` fixture.

``url(path=...)`` gives a webhook URL on the receiver; every path is accepted and recorded.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from tests.services import common

SLACK_PATH = "/services/T000CONVEYOR/B000TEST/XXXXXXXXXXXXXXXXXXXXXXXX"


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered (0 when it hung)
    at: float = field(default_factory=time.monotonic)  # arrival, for checking retry back-off

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass
class WebhookReceiver:
    base_url: str = ""
    requests: list[ReceivedRequest] = field(default_factory=list)
    _mode: str = "ok"
    _status: int = 200
    _fail_left: int = 0
    _retry_after: str | None = None
    _hang_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _arrived: threading.Condition = field(default_factory=threading.Condition)
    _release: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str = SLACK_PATH) -> str:
        """A Slack-shaped webhook URL on this receiver (any path is accepted and recorded)."""
        return self.base_url + path

    @property
    def host(self) -> str:
        return self.base_url.split("://", 1)[1].rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    # -- modes -----------------------------------------------------------------------------------
    def ok(self) -> None:
        with self._lock:
            self._mode, self._fail_left, self._retry_after = "ok", 0, None

    def fail_next(self, n: int, status: int = 503, retry_after: str | int | None = None) -> None:
        with self._lock:
            self._mode, self._fail_left, self._status = "fail_next", n, status
            self._retry_after = None if retry_after is None else str(retry_after)

    def always_fail(self, status: int = 500) -> None:
        with self._lock:
            self._mode, self._status, self._retry_after = "always_fail", status, None

    # Names used by the notify tests' first, local receiver; same behaviour.
    def set_ok(self) -> None:
        self.ok()

    def fail_n_times(self, n: int, status: int = 503, retry_after: str | int | None = None) -> None:
        self.fail_next(n, status, retry_after)

    def always(self, status: int = 500, retry_after: str | int | None = None) -> None:
        self.always_fail(status)
        with self._lock:
            self._retry_after = None if retry_after is None else str(retry_after)

    def hang(self, seconds: float = 30.0) -> None:
        """Hold every request open for ``seconds`` (released early by reset() so teardown is quick)."""
        with self._lock:
            self._mode, self._hang_seconds = "hang", seconds
            self._release.clear()

    @staticmethod
    def closed_url() -> str:
        """A webhook URL on a loopback port with no listener: connections are refused."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        return f"http://127.0.0.1:{port}{SLACK_PATH}"

    def reset(self) -> None:
        self._release.set()  # let hung handlers go
        with self._lock:
            self._mode, self._fail_left, self._retry_after, self._status = "ok", 0, None, 200
        with self._arrived:
            self.requests.clear()

    # -- observing -------------------------------------------------------------------------------
    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedRequest]:
        """Block until at least ``count`` requests arrived; return them (fails the test on timeout)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail(f"webhook receiver got {len(self.requests)} requests, expected {count}")
                self._arrived.wait(left)
            return list(self.requests)

    @property
    def json_bodies(self) -> list[Any]:
        return [r.json for r in self.requests]

    # -- called by the handler -------------------------------------------------------------------
    def _decide(self) -> tuple[str, int, str | None, float]:
        with self._lock:
            if self._mode == "fail_next":
                if self._fail_left > 0:
                    self._fail_left -= 1
                    return "fail", self._status, self._retry_after, 0.0
                self._mode = "ok"
            if self._mode == "always_fail":
                return "fail", self._status, self._retry_after, 0.0
            if self._mode == "hang":
                return "hang", 0, None, self._hang_seconds
            return "ok", 200, None, 0.0

    def _record(self, req: ReceivedRequest) -> None:
        with self._arrived:
            self.requests.append(req)
            self._arrived.notify_all()


def _handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            action, status, retry_after, hang = receiver._decide()
            req = ReceivedRequest(self.command, self.path, dict(self.headers.items()), body, status)
            receiver._record(req)
            if action == "hang":
                receiver._release.wait(hang)
                self.close_connection = True
                return
            payload = b"ok" if action == "ok" else b"service_unavailable" if status == 503 else b"internal_error"
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            if retry_after is not None:
                self.send_header("Retry-After", retry_after)
            self.end_headers()
            self.wfile.write(payload)

        do_POST = do_GET = do_PUT = _handle

    return Handler


@pytest.fixture(scope="session")
def _webhook_server() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    with common.serve_in_thread(_handler(receiver), "webhook-receiver") as receiver.base_url:
        try:
            yield receiver
        finally:
            receiver.reset()


@pytest.fixture
def webhook_receiver(_webhook_server: WebhookReceiver) -> Iterator[WebhookReceiver]:
    """The recording receiver, reset to mode "ok" with no recorded requests for this test."""
    _webhook_server.reset()
    yield _webhook_server
    _webhook_server.reset()


@pytest.fixture
def closed_port_url() -> str:
    """A loopback webhook URL nothing listens on, so connecting is refused ("endpoint down")."""
    return WebhookReceiver.closed_url()
