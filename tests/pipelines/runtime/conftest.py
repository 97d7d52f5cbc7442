"""Fixtures for the in-pod runtime tests: a real bucket (moto S3 or the GCS emulator), a real
Postgres database, and a helper that compiles a pipeline and runs it pod by pod."""

from __future__ import annotations

import pytest

from tests.pipelines.runtime.argo_driver import Cluster


@pytest.fixture
def s3_cluster(s3_endpoint, fresh_postgres_db, monkeypatch, tmp_path) -> Cluster:
    for key, value in s3_endpoint.env().items():
        monkeypatch.setenv(key, value)
    bucket = s3_endpoint.create_bucket()
    return Cluster(f"s3://{bucket}/artifacts", fresh_postgres_db, tmp_path)


@pytest.fixture
def gcs_cluster(gcs_emulator_env, fresh_postgres_db, tmp_path) -> Cluster:
    bucket = gcs_emulator_env.create_bucket()
    return Cluster(f"gs://{bucket}/artifacts", fresh_postgres_db, tmp_path)
