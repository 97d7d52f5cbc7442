"""dsl.importer: the same fixture under kfp's local runner (local files) and kfp's compiler (what only
a cluster can read), and under conveyor: local paths, s3:// through the moto server, reimport, metadata."""

from __future__ import annotations

import pytest

from conveyor.compiler.argo import CompileOptions, compile_workflow
from conveyor.runtime.loader import find_pipeline
from tests.pipelines.kfp.compat import compile_with_kfp, fixture, only_imports_mention_conveyor, run_kfp

TEST_IMAGE = "conveyor.local/conveyor-task:test"
FIXTURE = fixture("importer.py")


def _statuses(result) -> dict[str, str]:
    return {t.task: t.status for t in result.tasks}


def test_local_path_import_matches_kfp(run_file, tmp_path):
    pytest.importorskip("kfp")
    assert only_imports_mention_conveyor(FIXTURE)
    data = tmp_path / "rows.csv"
    data.write_text("a,b\n1,2\n")
    args = {"uri": str(data), "rows": 7}
    expected = run_kfp(FIXTURE, "importer_pipeline", tmp_path, args)
    result = run_file(FIXTURE, args, name="importer_pipeline")
    assert result.succeeded, result.error
    assert result.outputs == expected == {"Output": f"a,b\n1,2\n|{data}|from {data}|7|Dataset"}


def test_compiled_importer_matches_kfp_importer_spec(tmp_path):
    """kfp's compiled importer: artifactUri from the `uri` input, reimport, metadata placeholders."""
    pytest.importorskip("kfp")
    import yaml

    kfp = yaml.safe_load(compile_with_kfp(FIXTURE, tmp_path).read_text())
    executors = kfp["deploymentSpec"]["executors"]
    (importer,) = [e["importer"] for e in executors.values() if "importer" in e]
    spec = find_pipeline(FIXTURE, "importer_pipeline").pipeline_spec
    ours = spec.components[spec.tasks["importer"].component]
    assert importer["artifactUri"] == {"runtimeParameter": "uri"}
    assert bool(importer.get("reimport", False)) is ours.implementation.reimport is False
    assert importer["metadata"] == ours.implementation.metadata  # same placeholders, same input names
    kfp_inputs = kfp["components"]["comp-importer"]["inputDefinitions"]["parameters"]
    assert sorted(kfp_inputs) == sorted(i.name for i in ours.inputs)
    wiring = kfp["root"]["dag"]["tasks"]["importer"]["inputs"]["parameters"]
    assert {k: v["componentInputParameter"] for k, v in wiring.items()} == \
        {k: a.name for k, a in spec.tasks["importer"].arguments.items()}


def test_reimport_false_reuses_the_import_and_true_reads_again(run_file, tmp_path):
    data = tmp_path / "model.bin"
    data.write_text("v1")
    first = run_file(FIXTURE, {"uri": str(data)}, name="importer_pipeline")
    data.write_text("v2")
    again = run_file(FIXTURE, {"uri": str(data)}, name="importer_pipeline")
    assert first.succeeded and again.succeeded, (first.error, again.error)
    assert _statuses(again) == {"importer": "cached", "read": "cached"}
    assert again.outputs == first.outputs
    fresh = [run_file(FIXTURE, {"uri": str(data)}, name="reimport_pipeline") for _ in range(2)]
    assert [_statuses(r)["importer"] for r in fresh] == ["succeeded", "succeeded"]
    assert fresh[1].outputs == {"Output": f"{data}|[('framework', 'none')]"}


def test_s3_object_imports_through_the_artifact_store_code(run_file, tmp_path, s3_endpoint, monkeypatch):
    for key, value in s3_endpoint.env().items():
        monkeypatch.setenv(key, value)
    bucket = s3_endpoint.create_bucket()
    s3_endpoint.client().put_object(Bucket=bucket, Key="data/rows.csv", Body=b"x,y\n")
    uri = f"s3://{bucket}/data/rows.csv"
    result = run_file(FIXTURE, {"uri": uri, "rows": 1}, name="importer_pipeline")
    assert result.succeeded, result.error
    assert result.outputs == {"Output": f"x,y\n|{uri}|from {uri}|1|Dataset"}
    missing = run_file(FIXTURE, {"uri": f"s3://{bucket}/nope.csv"}, name="importer_pipeline")
    assert not missing.succeeded
    assert "there is no object at s3://" in (missing.tasks[0].error or "")
    assert missing.tasks[0].attempts == 1  # permanent: not retried


def test_missing_local_file_fails_the_importer_with_its_path(run_file, tmp_path):
    result = run_file(FIXTURE, {"uri": str(tmp_path / "absent.csv")}, name="importer_pipeline")
    assert not result.succeeded
    assert f"there is no file or folder at {tmp_path / 'absent.csv'}" in (result.tasks[0].error or "")


def test_importer_compiles_to_a_schema_valid_argo_task(argo_schema):
    spec = find_pipeline(FIXTURE, "importer_pipeline").pipeline_spec
    manifest = compile_workflow(spec, options=CompileOptions(image=TEST_IMAGE))
    argo_schema.check(manifest)
    root = next(t for t in manifest["spec"]["templates"] if t["name"] == manifest["spec"]["entrypoint"])
    importer = next(t for t in root["dag"]["tasks"] if t["name"] == "importer")
    args = {p["name"]: p["value"] for p in importer["arguments"]["parameters"]}
    assert args["uri"] == "{{workflow.parameters.uri}}"
    assert args["metadata-2"] == "{{workflow.parameters.rows}}"
    reimport = compile_workflow(find_pipeline(FIXTURE, "reimport_pipeline").pipeline_spec,
                                options=CompileOptions(image=TEST_IMAGE))
    pod = next(t for t in reimport["spec"]["templates"] if "container" in t and "importer" in t["name"])
    assert "--no-cache" in pod["container"]["args"]


def test_gs_object_imports_through_the_artifact_store_code(run_file, gcs_emulator_env):
    bucket = gcs_emulator_env.create_bucket()
    gcs_emulator_env.client().bucket(bucket).blob("in/rows.csv").upload_from_string(b"g,h\n")
    uri = f"gs://{bucket}/in/rows.csv"
    result = run_file(FIXTURE, {"uri": uri, "rows": 2}, name="importer_pipeline")
    assert result.succeeded, result.error
    assert result.outputs == {"Output": f"g,h\n|{uri}|from {uri}|2|Dataset"}


def test_a_local_folder_imports_whole(run_file, write_pipeline, tmp_path):
    folder = tmp_path / "shards"
    folder.mkdir()
    (folder / "a.txt").write_text("1")
    (folder / "b.txt").write_text("2")
    path = write_pipeline("""
    @dsl.component
    def names(data: Input[Dataset]) -> str:
        import os
        return ",".join(sorted(os.listdir(data.path)))

    @dsl.pipeline
    def folder_pipeline(uri: str) -> str:
        return names(data=dsl.importer(artifact_uri=uri, artifact_class=Dataset).output).output
    """)
    result = run_file(path, {"uri": f"file://{folder}"})
    assert result.succeeded, result.error
    assert result.outputs == {"Output": "a.txt,b.txt"}


def test_bad_importer_calls_are_authoring_errors():
    from conveyor import dsl
    from conveyor.ir import PipelineDefinitionError

    @dsl.pipeline
    def not_a_class():
        dsl.importer(artifact_uri="/x", artifact_class=str)

    with pytest.raises(PipelineDefinitionError, match="artifact_class must be an artifact class"):
        _ = not_a_class.pipeline_spec
