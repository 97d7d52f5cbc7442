"""Bring a database to the newest schema, once per process and safely under concurrency.

Alembic is configured in code (no alembic.ini on disk) and run inside one write transaction that
first takes a database-wide lock: `BEGIN IMMEDIATE` on SQLite, a transaction-scoped advisory lock
on Postgres. Both backends have transactional DDL, so a second process that opens a fresh database
at the same moment waits, then finds the schema at head and does nothing.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from conveyor.stores.metadata.api import MetadataStoreError
from conveyor.stores.metadata.schema import VERSION_TABLE

if TYPE_CHECKING:
    from alembic.config import Config

# The newest migration's revision. Checked against the migration scripts by a test; it lets an
# up-to-date database be recognised with one SELECT, without importing alembic (~0.1 s per command).
HEAD_REVISION = "0004"

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_ADVISORY_LOCK_ID = 0x636F6E76  # "conv"

_done: set[str] = set()
_lock = threading.Lock()


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("version_table", VERSION_TABLE)
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the package ships no migrations"
    return head


def current_revision(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


def _stored_revision(conn: Connection) -> str | None:
    try:
        return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    except DBAPIError:  # no version table yet: a fresh database
        return None


def ensure_schema(engine: Engine, cache_key: str, begin_write) -> None:
    """Upgrade to head unless this process already did it for `cache_key` (the redacted URL).

    `begin_write(conn)` opens the backend's write transaction (BEGIN IMMEDIATE on SQLite).
    """
    with _lock:
        if cache_key in _done:
            return
        with engine.connect() as conn:
            if _stored_revision(conn) == HEAD_REVISION:  # fast path: one SELECT, no alembic, no write lock
                conn.rollback()
                _done.add(cache_key)
                return
            conn.rollback()
        from alembic import command
        from alembic.script import ScriptDirectory

        head = head_revision()
        with engine.connect() as conn, begin_write(conn):
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ADVISORY_LOCK_ID})
            current = current_revision(conn)
            known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
            if current is not None and current not in known:
                raise MetadataStoreError(
                    f"the metadata database is at schema revision {current!r}, which this conveyor "
                    f"does not know (newest known: {head!r}); upgrade conveyor"
                )
            if current != head:
                command.upgrade(alembic_config(conn), "head")
        _done.add(cache_key)


def forget(cache_key: str) -> None:
    """Make the next open re-check the schema (tests that drop databases use this)."""
    with _lock:
        _done.discard(cache_key)
