"""Formatted strings on Argo: the compiled workflow's pods receive each run-time part on its own
input and join them exactly as the local executor does (same text, same cache key)."""

from __future__ import annotations

import pytest

from conveyor.runtime.loader import find_pipeline
from tests.pipelines.kfp.compat import fixture

pytestmark = pytest.mark.services


def test_formatted_strings_resolve_the_same_on_argo_and_locally(s3_cluster, run_file):
    path = fixture("formatted_strings.py")
    spec = find_pipeline(path, "formatted_pipeline").pipeline_spec
    local = run_file(path, {"name": "Ada"}, name="formatted_pipeline")
    manifest = s3_cluster.compile(spec, arguments={"name": "Ada"})
    pods = [t for t in manifest["spec"]["templates"] if "container" in t]
    inputs = {p["name"] for t in pods for p in t["inputs"]["parameters"]}
    assert {"text--part1", "text--part3"} <= inputs  # each value in its own input, never pre-joined
    _, nodes = s3_cluster.run(manifest=manifest)
    assert all(n.succeeded for n in nodes.values())
    assert nodes["join"].outputs["Output"] == local.outputs["Output"]
    assert "channel:" not in local.outputs["Output"] and "Hello Ada, ratio=1.5" in local.outputs["Output"]
