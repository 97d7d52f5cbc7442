"""Shared fixtures for the Argo compiler tests: the Argo JSON schema validator and the example profile."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from conveyor.compiler.argo import CompileOptions
from conveyor.profile import Profile, load_profile

SHARED = Path(__file__).resolve().parents[4] / "shared"
if not SHARED.exists():  # the lead's checkout may sit elsewhere; fall back to the fixed workspace path
    SHARED = Path("/work/shared")
SCHEMA_PATH = SHARED / "schemas" / "argo-workflows-v4.1.2.schema.json"
PROFILE_PATH = SHARED / "profile.example.json"


class ArgoSchema:
    """Validates manifests against the Argo Workflows v4.1.2 JSON schema and says where they fail."""

    def __init__(self, schema: dict) -> None:
        self.validator = jsonschema.Draft202012Validator(schema)

    def errors(self, manifest: dict) -> list[str]:
        return [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
            for e in self.validator.iter_errors(manifest)
        ]

    def check(self, manifest: dict) -> None:
        problems = self.errors(manifest)
        assert not problems, "manifest does not match the Argo schema:\n" + "\n".join(problems[:10])


@pytest.fixture(scope="session")
def argo_schema() -> ArgoSchema:
    return ArgoSchema(json.loads(SCHEMA_PATH.read_text()))


@pytest.fixture(scope="session")
def profile() -> Profile:
    return load_profile(PROFILE_PATH)


@pytest.fixture
def options() -> CompileOptions:
    """Deterministic options: a fixed run id and the spec referenced by URI (readable goldens)."""
    return CompileOptions(run_id="run-0001", spec_uri="s3://conveyor-dev-artifacts/pipelines/specs/spec.json")
