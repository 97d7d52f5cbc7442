"""Fixtures for the in-pod runtime tests: a real bucket (moto S3 or the GCS emulator), a real
Postgres database, and a helper that compiles a pipeline and runs it pod by pod."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conveyor.compiler.argo import CompileOptions, compile_workflow
from conveyor.profile import Profile
from conveyor.stores.artifacts import open_artifact_store
from conveyor.stores.metadata import open_metadata_store
from tests.pipelines.runtime.argo_driver import ArgoDriver

METADATA_SECRET = "conveyor-metadata/url"


@dataclass
class Cluster:
    """The stores a submitted run would use, and a way to run compiled workflows against them."""

    artifact_root: str
    metadata_url: str
    workdir: Path

    @property
    def profile(self) -> Profile:
        return Profile(cloud="aws", environment="test", artifact_root=self.artifact_root,
                       metadata_url=self.metadata_url, namespace="ml")

    def store(self):
        return open_metadata_store(self.metadata_url)

    def artifacts(self):
        return open_artifact_store(self.artifact_root)

    def compile(self, spec, run_id: str | None = None, **options: Any) -> dict[str, Any]:
        return compile_workflow(spec, self.profile, CompileOptions(run_id=run_id or f"run-{uuid.uuid4().hex[:8]}",
                                                                   **options))

    def run(self, spec=None, manifest: dict[str, Any] | None = None, **options: Any) -> tuple[str, dict]:
        """Compile (unless a manifest is given) and run every pod; returns (run id, node results)."""
        manifest = manifest or self.compile(spec, **options)
        pods = [t for t in manifest["spec"]["templates"] if "container" in t]
        run_id = next(e["value"] for e in pods[0]["container"]["env"] if e["name"] == "CONVEYOR_RUN_ID")
        driver = ArgoDriver(manifest, {METADATA_SECRET: self.metadata_url}, self.workdir / run_id)
        return run_id, driver.run()


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
