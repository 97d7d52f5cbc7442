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


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.services),
                        pytest.param("gcs", marks=pytest.mark.services)])
def artifact_store(request: pytest.FixtureRequest, tmp_path):
    """The same contract over every ArtifactStore: local CAS, S3 on a moto server, GCS on the emulator."""
    import uuid

    from conveyor.stores.artifacts import open_artifact_store

    prefix = f"runs/{uuid.uuid4().hex[:8]}"
    if request.param == "local":
        return open_artifact_store(str(tmp_path / "artifacts"))
    if request.param == "s3":
        s3 = request.getfixturevalue("s3_endpoint")
        bucket = s3.create_bucket()
        return open_artifact_store(f"s3://{bucket}/{prefix}", endpoint_url=s3.endpoint_url, region=s3.region,
                                   access_key_id=s3.access_key, secret_access_key=s3.secret_key)
    gcs = request.getfixturevalue("gcs_emulator_env")  # sets STORAGE_EMULATOR_HOST for this test
    bucket = gcs.create_bucket()
    return open_artifact_store(f"gs://{bucket}/{prefix}", project=gcs.project)
