"""The pod's side of shared contracts: the compiler's text forms, the scheduler's cache key, the
local final status, argv errors that must never be retried, and parity with a local run."""

from __future__ import annotations

import json

import pytest

from conveyor.compiler.argo import scopes
from conveyor.ir.errors import PermanentError
from conveyor.runtime.outcome import EXIT_PERMANENT
from conveyor.runtime.pod import main, parse_args, text_form
from conveyor.runtime.pod.inputs import InputResolver, artifact_ref, decode_artifact
from conveyor.runtime.protocol.keys import task_key, uncacheable
from tests.pipelines.runtime import pod_pipelines as pp


@pytest.mark.parametrize("value", ["plain", 1, 1.0, 0.25, True, None, [1, "a"], {"b": 1, "a": [2]}])
def test_text_form_is_the_compilers(value):
    assert scopes.text_form is text_form  # one definition, in conveyor.runtime.protocol.codec
    assert text_form(value) == (value if isinstance(value, str) else json.dumps(value, sort_keys=True,
                                                                                separators=(",", ":")))


def test_a_task_reading_the_final_status_has_no_cache_key():
    spec = pp.exit_pipeline.pipeline_spec
    assert "final status" in uncacheable(spec.component_of("announce"))
    params = {"status": {"state": "SUCCEEDED", "error_code": None, "error_message": None, "pipeline_task_name": "",
                         "pipeline_job_resource_name": "run-1"}}
    assert task_key(spec, "announce", params, {}) is None


@pytest.mark.parametrize("argv", [
    [],
    ["--spec", "env:X", "--task", "t", "--run-id", "r", "--outputs-dir", "/tmp/o", "--input", "novalue"],
    ["--spec", "env:X", "--task", "t", "--run-id", "r", "--outputs-dir", "/tmp/o", "--loop-index", "l=x"],
    ["--spec", "env:CONVEYOR_SPEC", "--task", "t", "--run-id", "r", "--outputs-dir", "/tmp/o"],
])
def test_contract_violations_exit_permanent(argv):
    env = {"CONVEYOR_ARTIFACT_ROOT": "/tmp/a", "CONVEYOR_METADATA_URL": "sqlite:////tmp/none.db",
           "CONVEYOR_SPEC": "not base64!"}
    assert main(argv, env) == EXIT_PERMANENT


def test_missing_metadata_url_is_permanent_and_unknown_task_too(tmp_path):
    from conveyor.compiler.argo import encode_spec

    spec = encode_spec(pp.train_pipeline.pipeline_spec)
    argv = ["--spec", "env:S", "--task", "nope", "--run-id", "r", "--outputs-dir", str(tmp_path)]
    assert main(argv, {"S": spec, "CONVEYOR_ARTIFACT_ROOT": str(tmp_path)}) == EXIT_PERMANENT
    env = {"S": spec, "CONVEYOR_ARTIFACT_ROOT": str(tmp_path), "CONVEYOR_METADATA_URL": f"sqlite:///{tmp_path}/m.db"}
    assert main(argv, env) == EXIT_PERMANENT


def _resolver(pipeline, task, inputs, failures=None):
    argv = ["--spec", "x", "--task", task, "--run-id", "run-9", "--outputs-dir", "/tmp/o"]
    for k, v in inputs.items():
        argv += ["--input", f"{k}={v}"]
    if failures is not None:
        argv += ["--workflow-failures", failures]
    return InputResolver(pipeline.pipeline_spec, parse_args(argv), None)


def test_argo_final_status_becomes_the_local_one():
    status = json.dumps({"state": "Succeeded", "pipeline_job_resource_name": "wf-1", "pipeline_task_name": "announce"})
    ok = _resolver(pp.exit_pipeline, "announce", {"status": status}).resolve()[0]["status"]
    # exactly the local executor's success status, so the exit task's cache key matches a local run
    assert ok == {"state": "SUCCEEDED", "error_code": None, "error_message": None, "pipeline_task_name": "",
                  "pipeline_job_resource_name": "run-9"}
    failed_status = status.replace("Succeeded", "Failed")
    failures = json.dumps(json.dumps([{"displayName": "broken", "message": "exit code 3"}]))  # quoted twice
    bad = _resolver(pp.exit_pipeline, "announce", {"status": failed_status}, failures).resolve()[0]["status"]
    assert bad["state"] == "FAILED" and bad["error_code"] == 1 and bad["pipeline_task_name"] == "broken"
    assert "exit code 3" in bad["error_message"]


def test_the_failed_task_is_found_by_name_among_argos_failed_nodes():
    """On the real Argo v4.0.5 controller {{workflow.failures}} lists every failed node in map order,
    the workflow's own DAG node among them (its displayName is the workflow's name), and every entry
    has a podName (the controller generates one for any node). The report once named the workflow;
    the task is the entry named after a spec task, the earliest to end, with its last attempt's message."""
    wf = "pod-exit-20261202-135543-b21476"
    failures = json.dumps([
        {"displayName": wf, "message": "child failed", "templateName": "pod-exit", "phase": "Failed",
         "podName": f"{wf}-pod-exit-1", "finishedAt": "2026-12-02T13:56:09Z"},
        {"displayName": "broken", "message": "No more retries left", "templateName": "broken", "phase": "Failed",
         "podName": f"{wf}-broken-2", "finishedAt": "2026-12-02T13:56:08Z"},
        {"displayName": "broken(1)", "message": "Error (exit code 4)", "templateName": "broken", "phase": "Failed",
         "podName": f"{wf}-broken-3", "finishedAt": "2026-12-02T13:56:07Z"},
        {"displayName": "broken(0)", "message": "Error (exit code 1)", "templateName": "broken", "phase": "Failed",
         "podName": f"{wf}-broken-4", "finishedAt": "2026-12-02T13:56:01Z"}])
    status = json.dumps({"state": "Failed"})
    bad = _resolver(pp.exit_pipeline, "announce", {"status": status}, failures).resolve()[0]["status"]
    assert bad["pipeline_task_name"] == "broken"
    assert bad["error_message"] == "task broken: Error (exit code 4)"  # the last attempt, not the retry summary
    only_the_workflow = json.dumps([{"displayName": wf, "message": "child failed", "podName": f"{wf}-1"}])
    bad = _resolver(pp.exit_pipeline, "announce", {"status": status}, only_the_workflow).resolve()[0]["status"]
    assert bad["pipeline_task_name"] == "" and bad["error_message"] == "the workflow failed: child failed"


def test_typed_inputs_follow_local_resolution():
    resolver = _resolver(pp.sleep_pipeline, "sleepy", {"seconds": "2"})
    assert resolver.resolve()[0] == {"seconds": 2.0}  # a float pipeline parameter stays a float
    assert isinstance(resolver.resolve()[0]["seconds"], float)
    with pytest.raises(PermanentError, match="not a JSON float"):
        _resolver(pp.sleep_pipeline, "sleepy", {"seconds": "fast"}).resolve()


def test_artifact_refs_inline_small_and_point_at_the_producer_when_large():
    art = {"type": "Model", "name": "m", "uri": "s3://b/blobs/sha256/aa", "digest": "sha256:aa", "size": 3,
           "metadata": {"k": "v"}}
    assert decode_artifact(artifact_ref(art, "r", "t", "m"), None, "x") == art
    big = dict(art, metadata={"curve": list(range(2000))})
    ref = json.loads(artifact_ref(big, "r", "t", "m"))
    assert ref["ref"] == {"run_id": "r", "task_id": "t", "output": "m"} and "metadata" not in ref
    with pytest.raises(PermanentError, match="needs the metadata store"):
        decode_artifact(json.dumps(ref), None, "x")
    with pytest.raises(PermanentError, match="not an artifact reference"):
        decode_artifact('{"uri": "s3://b/k"}', None, "x")


def test_large_artifact_ref_is_read_from_the_producers_recorded_outputs(tmp_path):
    from conveyor.stores.metadata import open_metadata_store

    art = {"type": "Metrics", "name": "m", "uri": "s3://b/blobs/sha256/aa", "digest": "sha256:aa", "size": 3,
           "metadata": {"curve": list(range(2000))}}
    with open_metadata_store(f"sqlite:///{tmp_path}/m.db") as store:
        store.create_run("r", "p", "d", "{}")
        store.upsert_task("r", "t", task_name="t", status="succeeded",
                          outputs={"parameters": {}, "artifacts": {"m": art}})
        assert decode_artifact(artifact_ref(art, "r", "t", "m"), store, "x") == art
        tampered = json.loads(artifact_ref(art, "r", "t", "m")) | {"digest": "sha256:bb"}
        with pytest.raises(PermanentError, match="digest"):
            decode_artifact(json.dumps(tampered), store, "x")
