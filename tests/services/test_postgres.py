"""Smoke tests proving the Postgres fixtures talk to a real server."""

import psycopg
import pytest

from tests.services.postgres import fresh_database

pytestmark = pytest.mark.services


def test_write_and_read_through_postgres_url(postgres_url):
    assert postgres_url.startswith("postgresql://conveyor:")
    assert "@127.0.0.1:" in postgres_url
    with psycopg.connect(postgres_url) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS smoke (id serial PRIMARY KEY, name text NOT NULL)")
        conn.execute("INSERT INTO smoke (name) VALUES (%s)", ("hello",))
        rows = conn.execute("SELECT name FROM smoke WHERE name = %s", ("hello",)).fetchall()
    assert ("hello",) in rows


def test_password_is_required(postgres_server):
    bad = postgres_server.url.replace(postgres_server.password, "wrong-password")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(bad, connect_timeout=5)


def test_fresh_db_is_empty_and_isolated(fresh_postgres_db, postgres_url):
    assert fresh_postgres_db != postgres_url
    with psycopg.connect(fresh_postgres_db) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
        conn.execute("CREATE TABLE only_here (x int)")
    assert tables == (0,)


def test_fresh_database_is_dropped_afterwards(postgres_server):
    def databases():
        with postgres_server.connect("postgres") as conn:
            return {r[0] for r in conn.execute("SELECT datname FROM pg_database")}

    with fresh_database(postgres_server) as url:
        name = url.rsplit("/", 1)[1]
        assert name in databases()
    assert name not in databases()


def test_restart_breaks_connections_and_keeps_data(postgres_server, fresh_postgres_db):
    with psycopg.connect(fresh_postgres_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE survives (v text)")
        conn.execute("INSERT INTO survives VALUES ('before restart')")
        postgres_server.restart()
        with pytest.raises(psycopg.OperationalError):
            conn.execute("SELECT 1")
    with psycopg.connect(fresh_postgres_db) as conn:
        assert conn.execute("SELECT v FROM survives").fetchall() == [("before restart",)]
