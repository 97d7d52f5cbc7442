"""Opening a metadata store: default location, URL errors, secret redaction, migrations, the lookup index."""

from __future__ import annotations

import contextlib
import multiprocessing
import socket
import sqlite3
import threading
import time

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, insert, text

from conveyor.stores.metadata import MetadataStoreError, migrate, open_metadata_store, redact_url
from conveyor.stores.metadata.schema import VERSION_TABLE, cache_entries, metadata


def test_default_store_is_sqlite_wal_under_conveyor_home(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVEYOR_HOME", str(tmp_path / "home"))
    with open_metadata_store() as store:
        store.create_run("r1", "p", "d", "{}")
    db = tmp_path / "home" / "metadata.db"
    assert db.is_file()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT run_id FROM runs").fetchall() == [("r1",)]


def test_default_home_is_dot_conveyor_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("CONVEYOR_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    open_metadata_store().close()
    assert (tmp_path / ".conveyor" / "metadata.db").is_file()


@pytest.mark.parametrize(("url", "redacted"), [
    ("postgresql://bob:s3cr3t@db:5432/x", "postgresql://bob:***@db:5432/x"),
    ("postgresql+psycopg://bob:p%40ss@db/x?sslmode=require", "postgresql+psycopg://bob:***@db/x?sslmode=require"),
    ("error near postgres://a:b@h/d today", "error near postgres://a:***@h/d today"),
    ("sqlite:////tmp/m.db", "sqlite:////tmp/m.db"),
])
def test_redact_url(url, redacted):
    assert redact_url(url) == redacted


@pytest.mark.parametrize(("url", "match"), [
    ("mysql://u:hunter2@h/db", r"'mysql://u:\*\*\*@h/db' has unsupported scheme 'mysql'"),
    ("sqlite://", "in-memory SQLite"),
    ("sqlite:///:memory:", "in-memory SQLite"),
    ("not a url at all", "is not a valid database URL"),
    ("postgresql://u:hunter2@localhost", "names no database"),
])
def test_bad_urls_are_named_and_redacted(url, match):
    with pytest.raises(MetadataStoreError, match=match) as info:
        open_metadata_store(url)
    assert "hunter2" not in str(info.value)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_postgres_fails_fast_with_a_redacted_url():
    url = f"postgresql://bob:hunter2@127.0.0.1:{_free_port()}/metadata"
    started = time.monotonic()
    with pytest.raises(MetadataStoreError) as info:
        open_metadata_store(url)
    message = str(info.value)
    assert time.monotonic() - started < 10
    assert "cannot connect to metadata store postgresql+psycopg://bob:***@127.0.0.1" in message
    assert "refused" in message.lower()
    assert "hunter2" not in message and "hunter2" not in repr(info.value.__cause__)


@pytest.mark.services
def test_wrong_password_names_the_cause_not_the_password(postgres_server):
    url = postgres_server.url.replace(postgres_server.password, "Wr0ngPassw0rd")
    with pytest.raises(MetadataStoreError, match="password authentication failed") as info:
        open_metadata_store(url)
    assert "Wr0ngPassw0rd" not in str(info.value) and postgres_server.password not in str(info.value)


@pytest.mark.services
def test_repr_and_url_of_a_postgres_store_hide_the_password(fresh_postgres_db):
    from sqlalchemy.engine import make_url

    password = make_url(fresh_postgres_db).password
    with open_metadata_store(fresh_postgres_db) as store:
        assert password not in repr(store) and password not in store.url
        assert ":***@" in store.url


def test_unwritable_sqlite_location_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(MetadataStoreError, match=f"cannot open metadata store sqlite.*{blocker}"):
        open_metadata_store(f"sqlite:///{blocker}/sub/metadata.db")


def test_migrated_schema_matches_the_table_definitions(metadata_store):
    with metadata_store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE, "compare_type": True})
        assert compare_metadata(ctx, metadata) == []
        assert migrate.current_revision(conn) == migrate.head_revision()


def test_a_database_from_a_newer_conveyor_is_refused(metadata_url, metadata_store):
    with metadata_store.engine.begin() as conn:
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '9999_future'"))
    migrate.forget(metadata_store.url)
    with pytest.raises(MetadataStoreError, match="revision '9999_future', which this conveyor does not know"):
        open_metadata_store(metadata_url)


def _open_and_write(url: str, i: int, queue) -> None:
    try:
        with open_metadata_store(url) as store:
            store.create_run(f"r{i}", "p", "d", "{}")
        queue.put(None)
    except BaseException as exc:  # report to the parent instead of dying silently
        queue.put(f"{type(exc).__name__}: {exc}")


def test_processes_opening_a_fresh_database_at_once_all_succeed(metadata_url):
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_open_and_write, args=(metadata_url, i, queue)) for i in range(6)]
    for p in procs:
        p.start()
    errors = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert errors == [None] * len(procs)
    with open_metadata_store(metadata_url) as store:
        assert len(store.list_runs()) == len(procs)


def test_cache_lookup_uses_the_key_index_with_50k_entries(metadata_store):
    """The plan, not a timing: p99 latency at 1M entries is a benchmark (bench/), not a unit test."""
    rows = [{"key": f"sha256:{i:064x}", "outputs_json": "{}", "created_at": float(i)} for i in range(50_000)]
    with metadata_store.engine.begin() as conn:
        conn.execute(insert(cache_entries), rows)
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE cache_entries"))
    captured: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "FROM cache_entries" in statement:
            captured.append((statement, parameters))

    event.listen(metadata_store.engine, "before_cursor_execute", capture)
    try:
        hit = metadata_store.cache_lookup(rows[31_337]["key"], now=1e9)
    finally:
        event.remove(metadata_store.engine, "before_cursor_execute", capture)
    assert hit is not None and hit.created_at == 31_337.0
    statement, parameters = captured[-1]
    with metadata_store.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            plan = " ".join(str(r) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
            assert "USING INDEX sqlite_autoindex_cache_entries_1 (key=?)" in plan, plan
        else:
            plan = " ".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters))
            assert "Index Scan using pk_cache_entries" in plan, plan


@pytest.mark.services
def test_opening_waits_out_too_many_clients(fresh_postgres_db):
    """A live server refusing for lack of slots (200 concurrent runners) is transient, not a bad URL."""
    import threading
    import uuid

    import psycopg
    from sqlalchemy.engine import make_url

    role, password = f"lim_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    with psycopg.connect(fresh_postgres_db, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}' CONNECTION LIMIT 1")
        admin.execute(f"GRANT ALL ON SCHEMA public TO {role}")
    url = make_url(fresh_postgres_db).set(username=role, password=password).render_as_string(hide_password=False)
    try:
        hog = psycopg.connect(url)  # the role's only slot
        threading.Timer(0.5, hog.close).start()
        started = time.monotonic()
        with open_metadata_store(url, retry_deadline_s=20, pool_size=1, max_overflow=0) as store:
            assert store.list_runs() == []
        assert time.monotonic() - started >= 0.4
    finally:
        with psycopg.connect(fresh_postgres_db, autocommit=True) as admin:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")


def test_head_revision_constant_matches_the_migration_scripts():
    """The fast open path trusts HEAD_REVISION; a new migration must update it."""
    from conveyor.stores.metadata import migrate

    assert migrate.head_revision() == migrate.HEAD_REVISION


def _forward_later(port: int, upstream: tuple[str, int], after_s: float) -> threading.Thread:
    """After `after_s`, listen on `port` and pipe each connection to `upstream` (a server that comes
    up late, as a busy node's database does for a pod)."""

    def pipe(a: socket.socket, b: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := a.recv(65536):
                b.sendall(data)
        with contextlib.suppress(OSError):
            b.shutdown(socket.SHUT_WR)

    def serve() -> None:
        time.sleep(after_s)
        with socket.create_server(("127.0.0.1", port)) as server:
            server.settimeout(30)
            with contextlib.suppress(OSError):
                while True:
                    client, _ = server.accept()
                    up = socket.create_connection(upstream)
                    for a, b in ((client, up), (up, client)):
                        threading.Thread(target=pipe, args=(a, b), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


@pytest.mark.services
def test_a_pod_waits_for_a_database_that_answers_late(fresh_postgres_db):
    """`reach_deadline_s` (the pod entrypoint's) waits out a server that is not there yet; the default
    (the CLI's) still fails at once, as the test above shows."""
    from sqlalchemy.engine import make_url

    real = make_url(fresh_postgres_db)
    port = _free_port()
    _forward_later(port, (real.host, real.port), after_s=1.5)
    late = real.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    started = time.monotonic()
    with open_metadata_store(late, reach_deadline_s=30) as store:
        assert store.list_runs() == []
    assert time.monotonic() - started >= 1.5
