"""Fixtures for the store contract tests: every test taking `metadata_store` runs on SQLite and on a
real Postgres (the shared `fresh_postgres_db` fixture from tests/services), Hamilton-style.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conveyor.stores.metadata import MetadataStore, open_metadata_store

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.services)])
def metadata_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A brand-new, empty database URL per test: a SQLite file or a fresh Postgres database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'metadata.db'}"
    return request.getfixturevalue("fresh_postgres_db")


@pytest.fixture
def metadata_store(metadata_url: str) -> Iterator[MetadataStore]:
    store = open_metadata_store(metadata_url, retry_deadline_s=20)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def run_with_task(metadata_store: MetadataStore) -> MetadataStore:
    """A store holding run "r1" (running) with one running task "t"."""
    metadata_store.create_run("r1", "pipe", "sha256:pipe", "{}", status="running", now=100.0)
    metadata_store.upsert_task("r1", "t", task_name="t", status="running", now=100.0)
    return metadata_store
