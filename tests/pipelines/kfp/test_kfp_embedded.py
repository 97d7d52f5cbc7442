"""dsl.EmbeddedInput with @dsl.component(embedded_artifact_path=...): the same fixture under kfp's local
runner and under conveyor (a file and a folder asset), the asset in the cache key, and the clear errors."""

from __future__ import annotations

import pytest

from conveyor import dsl
from conveyor.ir import PipelineDefinitionError
from conveyor.ir.embedded import EmbeddedArtifact
from conveyor.runtime.loader import find_pipeline
from tests.pipelines.kfp.compat import fixture, only_imports_mention_conveyor, run_kfp

FIXTURE = fixture("embedded_input.py")


@pytest.fixture
def assets(home, tmp_path):
    """The fixture names its assets relative to the working directory, as kfp resolves them."""
    (tmp_path / "embedded_asset.txt").write_text("hello")
    folder = tmp_path / "embedded_assets"
    folder.mkdir()
    (folder / "a.txt").write_text("1")
    (folder / "b.txt").write_text("2")
    return tmp_path


@pytest.mark.parametrize("pipeline", ["embedded_file_pipeline", "embedded_pipeline"])
def test_embedded_assets_match_kfp(pipeline, assets, run_file, tmp_path):
    pytest.importorskip("kfp")
    assert only_imports_mention_conveyor(FIXTURE)
    expected = run_kfp(FIXTURE, pipeline, tmp_path, {"prefix": "x"})
    result = run_file(FIXTURE, {"prefix": "x"}, name=pipeline)
    assert result.succeeded, result.error
    assert result.outputs == expected
    assert result.outputs["Output"] == ("x:embedded_asset.txt:hello" if pipeline == "embedded_file_pipeline"
                                        else "a.txt=1,b.txt=2")


def test_embedded_input_is_not_a_caller_input_and_its_bytes_key_the_cache(assets):
    spec = find_pipeline(FIXTURE, "embedded_file_pipeline").pipeline_spec
    component = spec.component_of("read-file")
    assert [i.name for i in component.inputs] == ["prefix"]
    assert component.embedded.inputs == {"asset": "Dataset"}
    before = component.embedded.digest
    (assets / "embedded_asset.txt").write_text("changed")
    after = EmbeddedArtifact.pack(assets / "embedded_asset.txt", {"asset": "Dataset"})
    assert after.digest != before
    assert component.model_copy(update={"embedded": after}).identity_digest() != component.identity_digest()

def test_embedded_input_without_a_path_or_a_missing_path_is_refused(tmp_path):
    with pytest.raises(PipelineDefinitionError, match=r"need @dsl.component\(embedded_artifact_path="):
        @dsl.component
        def no_path(asset: dsl.EmbeddedInput[dsl.Dataset]) -> str:
            return asset.path

    with pytest.raises(PipelineDefinitionError, match="embedded_artifact_path does not exist"):
        @dsl.component(embedded_artifact_path=str(tmp_path / "absent"))
        def missing(asset: dsl.EmbeddedInput[dsl.Dataset]) -> str:
            return asset.path


def test_embedded_asset_travels_in_the_compiled_workflow(assets, argo_schema):
    from conveyor.compiler.argo import CompileOptions, compile_workflow, decode_spec

    spec = find_pipeline(FIXTURE, "embedded_file_pipeline").pipeline_spec
    manifest = compile_workflow(spec, options=CompileOptions(image="conveyor.local/conveyor-task:test"))
    argo_schema.check(manifest)
    (param,) = [p["value"] for p in manifest["spec"]["arguments"]["parameters"] if p["name"] == "conveyor-spec"]
    shipped = decode_spec(param).component_of("read-file").embedded
    assert shipped == spec.component_of("read-file").embedded
