"""A real SQLite metadata store and local artifact store, filled through the stores' own API."""

from __future__ import annotations

import json

import pytest

from conveyor.ir.spec import PipelineSpec
from conveyor.stores.artifacts import open_artifact_store
from conveyor.stores.metadata import open_metadata_store

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def stores(tmp_path):
    store = open_metadata_store(f"sqlite:///{tmp_path / 'metadata.db'}")
    artifacts = open_artifact_store(str(tmp_path / "artifacts"))
    yield store, artifacts
    store.close()


@pytest.fixture
def client(stores):
    from starlette.testclient import TestClient

    from conveyor.ui import create_app

    store, artifacts = stores
    return TestClient(create_app(store, artifacts))


def add_run(store, run_id: str, *, name: str = "p", args=None, labels=None, status="succeeded", error=None,
            tasks=(), spec: PipelineSpec | None = None, now: float = 1_700_000_000.0):
    spec_json = (spec or PipelineSpec(name=name)).to_json()
    store.create_run(run_id, name, "sha256:" + "0" * 64, spec_json, args or {}, labels=labels or {}, now=now)
    store.set_run_status(run_id, "running", now=now)
    for task_id, task_status, task_error in tasks:
        store.upsert_task(run_id, task_id, task_name=task_id.split("[")[0], status=task_status, error=task_error,
                          now=now)
    store.set_run_status(run_id, status, error=error, now=now + 10)


def put_artifact(store, artifacts, tmp_path, run_id, task_id, name, content: bytes, type_name, metadata=None):
    path = tmp_path / f"{task_id}-{name}".replace("/", "_")
    path.write_bytes(content)
    stored = artifacts.put(path)
    return store.record_artifact(stored.uri, stored.digest, stored.size, run_id, task_id, name, type_name,
                                 metadata or {})


__all__ = ["HOSTILE", "add_run", "put_artifact", "json"]
