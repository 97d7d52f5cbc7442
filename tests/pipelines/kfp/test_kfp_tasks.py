"""Task-level kfp features: ignore_upstream_failure, resource setters given pipeline values."""

from __future__ import annotations

import pytest

from conveyor import dsl
from conveyor.compiler.argo import CompileOptions, compile_workflow
from conveyor.ir import PipelineDefinitionError
from conveyor.runtime.loader import find_pipeline
from tests.pipelines.kfp.compat import compile_with_kfp, fixture, only_imports_mention_conveyor

TEST_IMAGE = "conveyor.local/conveyor-task:test"  # what `conveyor image build` would name


def _kfp_tasks(path, tmp_path) -> dict:
    import yaml

    return yaml.safe_load(compile_with_kfp(path, tmp_path).read_text())["root"]["dag"]["tasks"]


def test_ignore_upstream_failure_runs_cleanup_with_the_default(run_file, tmp_path):
    """kfp's local runner stops at the first failure, so the meaning comes from kfp's compiled spec
    (ALL_UPSTREAM_TASKS_COMPLETED) and conveyor must run the cleanup with the input's default."""
    pytest.importorskip("kfp")
    path = fixture("ignore_upstream_failure.py")
    assert only_imports_mention_conveyor(path)
    assert _kfp_tasks(path, tmp_path)["cleanup"]["triggerPolicy"] == {"strategy": "ALL_UPSTREAM_TASKS_COMPLETED"}
    result = run_file(path, name="ignore_failure_pipeline")
    assert not result.succeeded  # the failure still fails the run, as in kfp
    status = {t.task: t.status for t in result.tasks}
    assert status == {"fail-op": "failed", "cleanup": "succeeded"}


def test_ignore_upstream_failure_compiles_to_an_argo_depends_on_completion():
    spec = find_pipeline(fixture("ignore_upstream_failure.py"), "ignore_failure_after_pipeline").pipeline_spec
    manifest = compile_workflow(spec, options=CompileOptions(image=TEST_IMAGE))
    root = next(t for t in manifest["spec"]["templates"] if t["name"] == manifest["spec"]["entrypoint"])
    cleanup = next(t for t in root["dag"]["tasks"] if t["name"] == "cleanup")
    assert "dependencies" not in cleanup
    assert cleanup["depends"].startswith("(fail-op.Succeeded || fail-op.Failed")
    reads = find_pipeline(fixture("ignore_upstream_failure.py"), "ignore_failure_pipeline").pipeline_spec
    manifest = compile_workflow(reads, options=CompileOptions(image=TEST_IMAGE))  # the fallback: test_compiler_branches
    root = next(t for t in manifest["spec"]["templates"] if t["name"] == manifest["spec"]["entrypoint"])
    cleanup = next(t for t in root["dag"]["tasks"] if t["name"] == "cleanup")
    assert {p["name"] for p in cleanup["arguments"]["parameters"]} >= {"message", "message--omitted"}


def test_ignore_upstream_failure_needs_defaults_like_kfp():
    @dsl.component
    def produce() -> str:
        return "x"

    @dsl.component
    def consume(text: str) -> str:
        return text

    @dsl.pipeline
    def no_default():
        consume(text=produce().output).ignore_upstream_failure()

    with pytest.raises(PipelineDefinitionError, match="needs a default for 'text'"):
        _ = no_default.pipeline_spec
