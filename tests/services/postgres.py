"""A real PostgreSQL for the metadata store's Postgres tests and the reliability suite.

Why real: the metadata store relies on Postgres behaviour SQLite does not have
(row locks, ``SELECT ... FOR UPDATE``, connection loss on restart), so only the
real server can prove it.

Two ways to get one, chosen per session:

* a Docker engine answers -> ``postgres:15-alpine`` via testcontainers on a fixed free port;
* otherwise -> the local binaries (``initdb`` + ``pg_ctl``).  Postgres refuses to
  run as root, so when the tests run as root (CI, containers) the cluster is owned
  by a system user ``conveyor-pg`` (created with ``useradd`` if missing) and every
  server command runs through ``runuser``.

The server listens only on 127.0.0.1 with password (scram) auth, so tests see
exactly what an application sees.  ``postgres_server.restart()`` lets the
reliability suite cut every connection mid-run.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.services import common

PG_USER_OS = "conveyor-pg"
DB_USER = "conveyor"
DB_NAME = "conveyor"
IMAGE = "postgres:15-alpine"


def _pg_bindir() -> str | None:
    """Directory holding initdb/pg_ctl: pg_config's answer, else the newest Debian install."""
    candidates: list[str] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10)
            candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    for d in candidates:
        if d and Path(d, "initdb").is_file() and Path(d, "pg_ctl").is_file():
            return d
    return None


def _version_key(path: str) -> int:
    try:
        return int(Path(path).parent.name)
    except ValueError:
        return 0


def _ensure_os_user() -> None:
    """Create the unprivileged system user Postgres will run as (it refuses root)."""
    if subprocess.run(["id", "-u", PG_USER_OS], capture_output=True).returncode == 0:
        return
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER_OS],
        check=True,
        capture_output=True,
    )


@dataclass
class PostgresServer:
    """A running Postgres; ``url`` points at the ``conveyor`` database owned by user ``conveyor``."""

    host: str
    port: int
    user: str
    password: str
    dbname: str
    log_path: Path | None = None
    _bindir: str | None = None
    _datadir: Path | None = None
    _as_user: list[str] = field(default_factory=list)
    _container: object | None = None

    @property
    def url(self) -> str:
        return self.url_for(self.dbname)

    @property
    def sqlalchemy_url(self) -> str:
        """The same URL with the psycopg 3 driver named, as SQLAlchemy wants it."""
        return self.url.replace("postgresql://", "postgresql+psycopg://", 1)

    def url_for(self, dbname: str) -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{dbname}"

    def connect(self, dbname: str | None = None, **kwargs):
        import psycopg

        return psycopg.connect(self.url_for(dbname or self.dbname), **kwargs)

    # -- lifecycle: what the reliability suite uses to pull the rug --------------------------
    def _pg_ctl(self, *args: str, timeout: float = 60) -> None:
        assert self._bindir and self._datadir
        cmd = [*self._as_user, f"{self._bindir}/pg_ctl", "-D", str(self._datadir), *args]
        subprocess.run(cmd, check=True, capture_output=True, timeout=timeout)

    def start(self) -> None:
        if self._container is not None:
            self._container.get_wrapped_container().start()  # type: ignore[attr-defined]
            self.wait_ready()
            return
        opts = f"-c listen_addresses={self.host} -c port={self.port} -c unix_socket_directories={self._datadir}"
        self._pg_ctl("start", "-w", "-t", "30", "-l", str(self.log_path), "-o", opts)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; ``mode='immediate'`` is the closest thing to a crash pg_ctl offers."""
        if self._container is not None:
            self._container.get_wrapped_container().stop(timeout=10)  # type: ignore[attr-defined]
            return
        self._pg_ctl("stop", "-w", "-m", mode)

    def restart(self, mode: str = "fast") -> None:
        """Restart on the same port: every open connection breaks, the data stays."""
        if self._container is not None:
            self._container.get_wrapped_container().restart(timeout=10)  # type: ignore[attr-defined]
            self.wait_ready()
            return
        self.stop(mode)
        self.start()

    def is_running(self) -> bool:
        try:
            with self.connect("postgres", connect_timeout=2):
                return True
        except Exception:
            return False

    def wait_ready(self, timeout: float = 30) -> None:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.is_running():
                return
            time.sleep(0.1)
        raise RuntimeError(f"postgres on port {self.port} not ready after {timeout}s")

    def log_tail(self, lines: int = common.LOG_TAIL_LINES) -> str:
        return common.tail(self.log_path, lines)

    # -- databases -----------------------------------------------------------------------------
    def create_database(self, name: str) -> str:
        with self.connect("postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" OWNER "{self.user}"')
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        with self.connect("postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class _LogAdapter:
    """Lets the common failure-report hook read Postgres's log like any ServiceProcess."""

    def __init__(self, server: PostgresServer):
        self.name = "postgres"
        self._server = server

    def log_tail(self, lines: int = common.LOG_TAIL_LINES) -> str:
        return self._server.log_tail(lines)


def _start_binaries(workdir: Path, host: str = "127.0.0.1", allow_cidr: str | None = None) -> PostgresServer:
    """Postgres on ``host``; ``allow_cidr`` adds a scram ``host`` rule to pg_hba.conf so clients from
    that network (e.g. the test cluster's pods, through the bridge gateway) may connect."""
    bindir = _pg_bindir()
    if bindir is None:
        common.find_binary("initdb", "postgresql")  # installs only when allowed
        bindir = _pg_bindir()
    if bindir is None:
        common.unavailable(
            "postgres: initdb/pg_ctl not found (pg_config --bindir, /usr/lib/postgresql/*/bin); "
            "install the 'postgresql' package or set CONVEYOR_AUTO_INSTALL=1 as root"
        )
    as_user: list[str] = []
    if os.geteuid() == 0:
        try:
            _ensure_os_user()
        except (OSError, subprocess.CalledProcessError) as exc:
            common.unavailable(f"postgres: cannot create system user {PG_USER_OS!r} to run as non-root: {exc}")
        shutil.chown(workdir, user=PG_USER_OS)
        as_user = ["runuser", "-u", PG_USER_OS, "--"]

    password = secrets.token_hex(12)
    pwfile = workdir / "pwfile"
    pwfile.write_text(password + "\n")
    datadir = workdir / "data"
    log_path = workdir / "postgres.log"
    if as_user:
        shutil.chown(pwfile, user=PG_USER_OS)
    server = PostgresServer(
        host=host, port=0, user=DB_USER, password=password, dbname=DB_NAME,
        log_path=log_path, _bindir=bindir, _datadir=datadir, _as_user=as_user,
    )
    initdb = [
        *as_user, f"{bindir}/initdb", "-D", str(datadir), "-U", DB_USER, f"--pwfile={pwfile}",
        "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync",
    ]
    result = subprocess.run(initdb, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        common.unavailable("postgres: initdb failed", (result.stdout + result.stderr)[-4000:])
    # Test-speed settings: losing durability on an OS crash does not matter for a throwaway
    # cluster, and a clean restart (what the reliability suite does) still checkpoints.
    with open(datadir / "postgresql.conf", "a") as conf:
        conf.write("\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\n")
    if allow_cidr:
        with open(datadir / "pg_hba.conf", "a") as hba:
            hba.write(f"\nhost all all {allow_cidr} scram-sha-256\n")

    error = ""
    for _ in range(3):  # the free port can be taken between picking and binding
        server.port = common.free_port()
        try:
            server.start()
            server.wait_ready(timeout=15)
            break
        except (subprocess.SubprocessError, RuntimeError) as exc:
            error = str(exc)
            with contextlib.suppress(Exception):
                server.stop("immediate")
    else:
        common.unavailable(f"postgres: could not start: {error}", server.log_tail())
    server.create_database(DB_NAME)
    return server


def _start_container() -> PostgresServer:
    try:
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:  # testcontainers < 4.9 keeps it at the old path
        from testcontainers.postgres import PostgresContainer

    password = secrets.token_hex(12)
    port = common.free_port()
    try:
        container = PostgresContainer(IMAGE, username=DB_USER, password=password, dbname=DB_NAME, driver=None)
        container.with_bind_ports(5432, port)  # fixed host port, so restart() keeps the URL valid
        container.start()
    except Exception as exc:
        common.unavailable(f"postgres: container {IMAGE} failed to start: {exc}")
    server = PostgresServer(
        host=container.get_container_host_ip(), port=port, user=DB_USER, password=password, dbname=DB_NAME,
        _container=container,
    )
    try:
        server.wait_ready()
    except RuntimeError as exc:
        container.stop()
        common.unavailable(f"postgres: container {IMAGE} did not accept connections: {exc}")
    return server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's Postgres server object (url, restart(), stop(), start(), create_database())."""
    if common.docker_available():
        server = _start_container()
        try:
            yield server
        finally:
            server._container.stop()  # type: ignore[union-attr]
        return
    workdir = common.service_dir("postgres")
    server = _start_binaries(workdir)
    common.register("postgres_server", _LogAdapter(server))  # type: ignore[arg-type]
    try:
        yield server
    finally:
        common.unregister("postgres_server")
        with contextlib.suppress(Exception):
            server.stop("fast")
        common.cleanup_dir(workdir)


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """``postgresql://conveyor:<password>@127.0.0.1:<port>/conveyor`` of the session's server."""
    return postgres_server.url


@contextlib.contextmanager
def fresh_database(server: PostgresServer) -> Iterator[str]:
    """Create a uniquely named empty database, yield its URL, drop it (even if the server was stopped)."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    if not server.is_running():  # a previous test may have stopped it on purpose
        server.start()
    url = server.create_database(name)
    try:
        yield url
    finally:
        with contextlib.suppress(Exception):
            if not server.is_running():
                server.start()
            server.drop_database(name)


@pytest.fixture
def fresh_postgres_db(postgres_server: PostgresServer) -> Iterator[str]:
    """URL of a brand-new empty database for one test, dropped afterwards (isolation without a new server)."""
    with fresh_database(postgres_server) as url:
        yield url
