"""SQL for cache entries and compute claims (leases). Each function runs inside the caller's transaction.

A claim is one row per key. Taking it is an INSERT … ON CONFLICT DO NOTHING, and, if a row was
there, a conditional UPDATE that only succeeds when the row is ours (renewal) or its lease has
expired (its owner died). Both statements are atomic per row on SQLite and Postgres, so at most one
live owner holds a key at any time.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select, true, update
from sqlalchemy.engine import Connection

from conveyor.stores.metadata import rows
from conveyor.stores.metadata.api import CacheClaim, CacheEntry, MetadataStoreError
from conveyor.stores.metadata.records import check_digest
from conveyor.stores.metadata.schema import cache_claims, cache_entries


def lookup(conn: Connection, key: str, max_staleness_s: float | None, now: float) -> CacheEntry | None:
    row = conn.execute(select(cache_entries).where(cache_entries.c.key == key)).first()
    if row is None:
        return None
    entry = rows.cache_entry(row)
    return None if entry.expired(now, max_staleness_s) else entry


def put(conn: Connection, entry: CacheEntry) -> None:
    if not isinstance(entry.outputs, dict):
        raise MetadataStoreError(f"cache entry {entry.key!r}: outputs must be a dict, got {type(entry.outputs).__name__}")
    for name, art in (entry.outputs.get("artifacts") or {}).items():
        if not isinstance(art, dict) or "uri" not in art or "digest" not in art:
            raise MetadataStoreError(f"cache entry {entry.key!r}: artifact output {name!r} needs a uri and a digest")
        check_digest(art["digest"], f"cache entry {entry.key!r}, artifact output {name!r}")
    values = {
        "outputs_json": rows.dumps(entry.outputs, f"outputs of cache entry {entry.key!r}"),
        "created_at": entry.created_at,
        "expires_at": None if entry.ttl_s is None else entry.created_at + entry.ttl_s,
        "ttl_s": entry.ttl_s,
        "duration_s": entry.duration_s,
        "cost_usd": entry.cost_usd,
        "source_run_id": entry.source_run_id,
        "source_task_id": entry.source_task_id,
    }
    conn.execute(
        rows.insert(conn, cache_entries).values(key=entry.key, **values)
        .on_conflict_do_update(index_elements=["key"], set_=values)
    )


def invalidate(conn: Connection, key: str) -> bool:
    return conn.execute(delete(cache_entries).where(cache_entries.c.key == key)).rowcount > 0


def list_entries(conn: Connection, limit: int | None, older_than_s: float | None, now: float) -> list[CacheEntry]:
    stmt = select(cache_entries)
    if older_than_s is not None:
        stmt = stmt.where(cache_entries.c.created_at < now - older_than_s)
    stmt = stmt.order_by(cache_entries.c.created_at.desc(), cache_entries.c.key)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [rows.cache_entry(r) for r in conn.execute(stmt)]


def prune(conn: Connection, older_than_s: float | None, expired: bool, all_entries: bool, now: float) -> int:
    if all_entries:
        conditions = [true()]
    else:
        conditions = []
        if expired:
            conditions.append(cache_entries.c.expires_at < now)
        if older_than_s is not None:
            conditions.append(cache_entries.c.created_at < now - older_than_s)
        if not conditions:
            return 0
    removed = conn.execute(delete(cache_entries).where(or_(*conditions))).rowcount
    conn.execute(delete(cache_claims).where(cache_claims.c.expires_at < now))  # dead owners' leases
    return removed


def claim(conn: Connection, key: str, owner: str, lease_s: float, now: float) -> bool:
    if lease_s <= 0:
        raise MetadataStoreError(f"cache claim on {key!r}: lease_s must be positive, got {lease_s}")
    values = {"owner": owner, "claimed_at": now, "expires_at": now + lease_s}
    inserted = conn.execute(
        rows.insert(conn, cache_claims).values(key=key, **values).on_conflict_do_nothing(index_elements=["key"])
        .returning(cache_claims.c.key)
    ).first()
    if inserted is not None:
        return True
    taken = conn.execute(
        update(cache_claims)
        .where(cache_claims.c.key == key, or_(cache_claims.c.owner == owner, cache_claims.c.expires_at < now))
        .values(**values)
    ).rowcount
    return taken > 0


def release(conn: Connection, key: str, owner: str) -> bool:
    stmt = delete(cache_claims).where(cache_claims.c.key == key, cache_claims.c.owner == owner)
    return conn.execute(stmt).rowcount > 0


def get_claim(conn: Connection, key: str) -> CacheClaim | None:
    row = conn.execute(select(cache_claims).where(cache_claims.c.key == key)).first()
    return None if row is None else rows.cache_claim(row)
