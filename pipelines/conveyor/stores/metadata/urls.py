"""Metadata URLs: the default location, driver normalisation and password redaction.

Kept apart from the store so that the CLI and notifiers can redact a URL without opening anything.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from conveyor.stores.metadata.api import MetadataStoreError

_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]*)@")


def conveyor_home() -> Path:
    """`$CONVEYOR_HOME`, else `./.conveyor` in the working directory (the local profile's home)."""
    return Path(os.environ.get("CONVEYOR_HOME") or ".conveyor").expanduser().absolute()


def default_metadata_url() -> str:
    return f"sqlite:///{conveyor_home() / 'metadata.db'}"


def redact_url(url: str) -> str:
    """`scheme://user:***@host/db` — safe for errors, logs and reprs, even for URLs that don't parse."""
    return _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@", str(url))


def scrub(text: str, url: str | URL | None) -> str:
    """Remove the password of `url` (and any user:password@ pair) from free text such as a driver error."""
    out = str(text)
    if url is not None:
        try:
            password = (url if isinstance(url, URL) else make_url(str(url))).password
        except ArgumentError:
            password = None
        if password:
            out = out.replace(str(password), "***")
    return redact_url(out)


def normalize_url(url: str) -> URL:
    """Parse and pick the driver: `postgres[ql]://` → psycopg 3; `sqlite:///path` stays pysqlite.

    Raises MetadataStoreError naming the redacted URL and what is allowed.
    """
    safe = redact_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise MetadataStoreError(
            f"metadata URL {safe!r} is not a valid database URL; expected sqlite:///PATH or "
            "postgresql://USER:PASSWORD@HOST:PORT/DB"
        ) from exc
    backend, _, driver = parsed.drivername.partition("+")
    if backend in ("postgresql", "postgres"):
        if not parsed.database:
            raise MetadataStoreError(f"metadata URL {safe!r} names no database (…/DBNAME)")
        return parsed.set(drivername=f"postgresql+{driver or 'psycopg'}")
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise MetadataStoreError(
                f"metadata URL {safe!r} is an in-memory SQLite database; task processes could not see it. "
                "Use sqlite:///PATH/metadata.db"
            )
        return parsed.set(drivername=f"sqlite+{driver or 'pysqlite'}")
    raise MetadataStoreError(
        f"metadata URL {safe!r} has unsupported scheme {parsed.drivername!r}; "
        "expected sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DB"
    )
