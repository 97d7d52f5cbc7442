"""Shared machinery for the service fixtures: ports, processes, logs, skip-or-fail.

Every fixture in this package starts a *real* server (PostgreSQL, moto, the GCS
emulator, Prometheus, Pushgateway) because the code under test talks to those
servers over the wire in production; a mock would prove only that we agree with
ourselves.  This module holds what all of them need so each service module stays
small:

* ``free_port`` picks a loopback port nobody is listening on;
* ``ServiceProcess`` runs a binary with its output in a log file, waits until it
  answers, stops it politely and then firmly, and can show the log's tail;
* ``unavailable`` is the single place that decides between ``pytest.skip`` (a
  laptop without Prometheus installed) and ``pytest.fail`` (CI, where
  ``CONVEYOR_REQUIRE_SERVICES=1`` says a missing service is a broken build);
* ``find_binary`` looks a binary up and, only when explicitly allowed, apt-installs it;
* ``docker_available`` says whether testcontainers can be used instead of binaries;
* ``running`` holds a started process for a fixture's lifetime (log on failure, cleanup);
* ``http_ok`` is the readiness probe of the HTTP services, ``serve_in_thread`` runs the
  in-process ones (webhook receiver, S3 fault proxy);
* a report hook attaches the tail of each service's log to a failing test that
  used it, so a CI failure shows what the server said.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REQUIRE_ENV = "CONVEYOR_REQUIRE_SERVICES"
AUTO_INSTALL_ENV = "CONVEYOR_AUTO_INSTALL"
# "auto" (containers when a Docker engine answers), "binaries" or "containers".
MODE_ENV = "CONVEYOR_SERVICES_MODE"

LOG_TAIL_LINES = 40

# Every service started this session, by fixture name, so a failing test can show its logs.
_RUNNING: dict[str, ServiceProcess] = {}


def services_required() -> bool:
    """CI sets CONVEYOR_REQUIRE_SERVICES=1 so that a service that cannot start fails the run."""
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes"}


def unavailable(reason: str, log: str | None = None) -> None:
    """Skip (laptop) or fail (CI) because a service could not be provided; never returns.

    One helper for every fixture so the policy is the same everywhere and the
    reason always names the service and what was missing.
    """
    if services_required():
        detail = f"{reason}\n--- service log (tail) ---\n{log}" if log else reason
        pytest.fail(f"{detail}\n({REQUIRE_ENV}=1: a service that cannot start fails the run)", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def service_dir(name: str) -> Path:
    """A fresh temp dir for one service, traversable by the unprivileged Postgres user.

    pytest's own basetemp is 0700 under /tmp/pytest-of-root, which a non-root
    server process cannot enter; so service dirs live directly under the system temp dir.
    """
    path = Path(tempfile.mkdtemp(prefix=f"conveyor-{name}-"))
    path.chmod(0o755)
    return path


def auto_install_allowed() -> bool:
    return os.environ.get(AUTO_INSTALL_ENV, "").strip() == "1" and os.geteuid() == 0


def find_binary(name: str, apt_package: str, extra_dirs: Sequence[str] = ()) -> str | None:
    """Path of ``name`` on PATH or in ``extra_dirs``; apt-install ``apt_package`` only if allowed.

    Installing is opt-in (root and CONVEYOR_AUTO_INSTALL=1) because silently
    changing a developer's machine from a test run would be rude; CI installs the
    packages up front in .ci/run instead.
    """

    def lookup() -> str | None:
        for d in extra_dirs:
            candidate = Path(d) / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
        return shutil.which(name)

    found = lookup()
    if found is None and auto_install_allowed() and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=300)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "--no-install-recommends", apt_package],
            env=env,
            capture_output=True,
            timeout=600,
        )
        found = lookup()
    return found


_docker_answer: bool | None = None


def docker_available() -> bool:
    """True when a Docker engine answers quickly, so testcontainers can be used.

    CONVEYOR_SERVICES_MODE=binaries / containers forces the choice.  The answer is
    cached for the session: asking a dead socket repeatedly costs seconds.
    """
    global _docker_answer
    mode = os.environ.get(MODE_ENV, "auto").strip().lower()
    if mode == "binaries":
        return False
    if mode == "containers":
        return True
    if _docker_answer is None:
        _docker_answer = False
        try:
            import docker  # testcontainers depends on it

            client = docker.from_env(timeout=3)
            _docker_answer = bool(client.ping())
            client.close()
        except Exception:
            _docker_answer = False
    return _docker_answer


def tail(path: Path | None, lines: int = LOG_TAIL_LINES) -> str:
    if path is None or not path.exists():
        return ""
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


class ServiceProcess:
    """One server process whose stdout/stderr go to a log file kept for failure reports."""

    def __init__(self, name: str, argv: Sequence[str], workdir: Path, env: dict[str, str] | None = None):
        self.name = name
        self.argv = list(argv)
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, ready: Callable[[], bool], timeout: float = 20.0) -> None:
        """Start the process and poll ``ready`` until it is true; raise RuntimeError otherwise."""
        log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        try:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                start_new_session=True,  # a Ctrl-C in pytest must not kill servers mid-teardown
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with code {self.proc.returncode} while starting")
            with contextlib.suppress(Exception):
                if ready():
                    return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not become ready within {timeout:.0f}s")

    def stop(self, grace: float = 5.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(grace)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return tail(self.log_path, lines)


def start_with_retries(make: Callable[[], ServiceProcess], ready_for: Callable[[ServiceProcess], Callable[[], bool]],
                       attempts: int = 3, timeout: float = 20.0) -> ServiceProcess:
    """Start a service, retrying with a fresh port when it loses the free-port race.

    ``make`` builds a new ServiceProcess (choosing a new port each call).  After
    the last failed attempt this calls ``unavailable`` with the log tail.
    """
    last: ServiceProcess | None = None
    error = ""
    for _ in range(attempts):
        last = make()
        try:
            last.start(ready_for(last), timeout=timeout)
            return last
        except (OSError, RuntimeError) as exc:
            error = str(exc)
            last.stop()
    name = last.name if last else "service"
    unavailable(f"{name} could not start: {error}", last.log_tail() if last else None)
    raise AssertionError("unreachable")


def http_ok(url: str, timeout: float = 1.0) -> bool:
    """Readiness probe: ``url`` answers 2xx/3xx (urlopen raises on 4xx/5xx and on a refused port)."""
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return resp.status < 400


@contextlib.contextmanager
def serve_in_thread(handler: type[BaseHTTPRequestHandler], name: str, host: str = "127.0.0.1") -> Iterator[str]:
    """An in-process HTTP server on a free port of ``host`` (loopback unless told otherwise; the OS
    picks the port, so no race); yields its base URL and shuts it down afterwards. For servers whose
    behaviour the tests script."""
    server = ThreadingHTTPServer((host, 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def running(fixture_name: str, make: Callable[[], ServiceProcess],
            ready_for: Callable[[ServiceProcess], Callable[[], bool]], timeout: float = 20.0) -> Iterator[ServiceProcess]:
    """A started service (``start_with_retries``) for the life of a fixture: registered so failing
    tests show its log, then stopped and its work dir removed, whatever the test did."""
    proc = start_with_retries(make, ready_for, timeout=timeout)
    register(fixture_name, proc)
    try:
        yield proc
    finally:
        unregister(fixture_name)
        proc.stop()
        cleanup_dir(proc.workdir)


def register(fixture_name: str, service: ServiceProcess) -> None:
    """Remember a running service so failing tests that use ``fixture_name`` show its log."""
    _RUNNING[fixture_name] = service


def unregister(fixture_name: str) -> None:
    _RUNNING.pop(fixture_name, None)


def cleanup_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Attach the log tail of every service a failing test used, so CI output explains itself."""
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    for fixture_name in getattr(item, "fixturenames", ()):
        service = _RUNNING.get(fixture_name)
        if service is not None:
            report.sections.append((f"{service.name} log (tail)", service.log_tail()))
