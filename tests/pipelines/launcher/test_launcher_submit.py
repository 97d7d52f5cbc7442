"""conveyor.launcher.submit: the cached prefix is resolved before anything is created, checked
against a kubernetes client that records the calls it is given."""

from __future__ import annotations

import json

import pytest

from conveyor.executor.run import RunResult, TaskSummary
from conveyor.ir.errors import PipelineDefinitionError
from conveyor.launcher import LaunchError, submit
from tests.pipelines.compiler.helpers import args_of, dag_tasks
from tests.pipelines.launcher import launcher_pipelines as lp
from tests.pipelines.launcher.conftest import ApiException
from tests.pipelines.runtime import pod_pipelines as pp


def _statuses(run):
    return {t["name"]: t["status"] for t in run.tasks}


def test_fully_cached_run_creates_no_workflow_and_is_recorded_like_a_local_run(local_cluster, kube):
    spec = pp.train_pipeline.pipeline_spec
    seeded, _ = local_cluster.run(spec)
    run = submit(spec, {}, local_cluster.profile, client=kube)
    assert kube.calls == []
    assert run.status == "succeeded" and run.workflow is None
    assert _statuses(run) == dict.fromkeys(("make-data", "train", "report"), "cached")
    local_shape = RunResult("r", "p", "succeeded", [TaskSummary("t", "t", "cached", 0, 0.0, None)], {}, 0.0).to_dict()
    assert set(local_shape) <= set(run.to_dict())
    assert set(local_shape["tasks"][0]) == set(run.to_dict()["tasks"][0])
    with local_cluster.store() as store:
        record = store.get_run(run.run_id)
        assert (record.status, record.labels["executor"]) == ("succeeded", "argo")
        assert record.ended_at is not None and record.arguments == {"rows": 10, "lr": 0.25}
        assert store.get_task(run.run_id, "train").cached_from_run == seeded
        assert run.run_id in [r.run_id for r in store.list_runs()]


def test_partially_cached_run_submits_only_the_rest_with_cached_outputs_injected(local_cluster, kube):
    spec = pp.train_pipeline.pipeline_spec
    seeded, _ = local_cluster.run(spec)  # lr=0.25: make-data is shared, train and report are not
    run = submit(spec, {"lr": 0.5}, local_cluster.profile, client=kube)
    assert run.status == "running" and _statuses(run) == {"make-data": "cached"}
    (manifest,) = kube.created()
    assert manifest["metadata"]["name"] == run.workflow and manifest["metadata"]["namespace"] == "ml"
    root = manifest["spec"]["entrypoint"]
    assert set(dag_tasks(manifest, root)) == {"train", "report"}
    with local_cluster.store() as store:
        data = store.get_task(seeded, "make-data").outputs["artifacts"]["data"]
    injected = json.loads(args_of(dag_tasks(manifest, root)["train"])["data"])
    assert (injected["uri"], injected["digest"]) == (data["uri"], data["digest"])
    params = {p["name"]: p.get("value") for p in manifest["spec"]["arguments"]["parameters"]}
    assert params["lr"] == "0.5" and "conveyor-spec" not in params  # the spec went to the artifact store

    # what the controller would now do: run the pods of the submitted manifest
    run_id, nodes = local_cluster.run(manifest=manifest)
    assert run_id == run.run_id and all(n.succeeded for n in nodes.values())
    assert nodes["report"].outputs["Output"] == "1.00:lr=0.5 n=10"


def test_submit_against_postgres_and_s3(s3_endpoint, fresh_postgres_db, monkeypatch, tmp_path, kube):
    from tests.pipelines.runtime.argo_driver import Cluster

    for key, value in s3_endpoint.env().items():
        monkeypatch.setenv(key, value)
    cluster = Cluster(f"s3://{s3_endpoint.create_bucket()}/a", fresh_postgres_db, tmp_path)
    spec = pp.train_pipeline.pipeline_spec
    cluster.run(spec)
    run = submit(spec, {}, cluster.profile, client=kube)
    assert kube.calls == [] and set(_statuses(run).values()) == {"cached"}
    model = cluster.store().get_task(run.run_id, "train").outputs["artifacts"]["model"]
    assert cluster.artifacts().delete(model["uri"])  # verification: a deleted output is no hit
    run = submit(spec, {}, cluster.profile, client=kube)
    assert _statuses(run) == {"make-data": "cached"} and len(kube.created()) == 1


def test_an_exit_task_reading_the_final_status_is_never_resolved_from_the_cache(local_cluster, kube):
    """Issue 12: every run must notify, so a fully cached body still gets a Workflow for its exit task."""
    spec = lp.train_with_exit.pipeline_spec
    local_cluster.run(spec)  # the pods, including the onExit task with {{workflow.status}} = Succeeded
    run = submit(spec, {}, local_cluster.profile, client=kube)
    (manifest,) = kube.created()
    assert "onExit" in manifest["spec"] and _statuses(run)["train"] == "cached"
    assert "announce" not in {t for t, s in _statuses(run).items() if s == "cached"}


def test_only_an_uncached_exit_task_left_still_gets_a_workflow(local_cluster, kube):
    spec = lp.train_with_exit.pipeline_spec
    local_cluster.run(spec)
    tasks = dict(spec.tasks, announce=spec.tasks["announce"].model_copy(update={"caching": False}))
    uncached_exit = spec.model_copy(update={"tasks": tasks})
    run = submit(uncached_exit, {}, local_cluster.profile, client=kube)
    (manifest,) = kube.created()
    entry = next(t for t in manifest["spec"]["templates"] if t["name"] == manifest["spec"]["entrypoint"])
    assert entry["suspend"] == {"duration": "0"}  # no body pod: every body task is cached
    assert {t["name"] for t in manifest["spec"]["templates"] if "container" in t} == {"announce"}
    assert "onExit" in manifest["spec"] and _statuses(run)["train"] == "cached"
    run_id, nodes = local_cluster.run(manifest=manifest)
    assert nodes["announce"].outputs["Output"] == "SUCCEEDED:None"


def test_a_decidable_false_condition_is_skipped_client_side(local_cluster, kube):
    from conveyor import dsl

    @dsl.pipeline(name="count-only")
    def count_only(rows: int = 5):
        lp.count(n=rows)

    local_cluster.run(count_only.pipeline_spec)
    run = submit(lp.gated.pipeline_spec, {}, local_cluster.profile, client=kube)
    assert kube.calls == [] and run.status == "succeeded"
    assert _statuses(run) == {"count": "cached", "make-data": "skipped"}
    run = submit(lp.gated.pipeline_spec, {"threshold": 1}, local_cluster.profile, client=kube)
    (manifest,) = kube.created()
    assert set(dag_tasks(manifest, manifest["spec"]["entrypoint"])) == {"condition-1"}  # only the If group


def test_a_one_of_over_a_skipped_and_a_cached_branch_resolves_client_side(local_cluster, kube):
    """The branch pick is the local scheduler's (readiness.resolve_one_of): the If branch is skipped,
    the Else branch is cached, so the consumer's key is known and it hits too - nothing is created."""
    from conveyor import dsl

    @dsl.pipeline(name="seed")
    def seed():
        lp.count(n=5)  # the If's test: 10 > 100 is false
        lp.count(n=2)  # the Else branch: 4
        lp.count(n=4)  # the consumer, reading the Else branch's 4

    local_cluster.run(seed.pipeline_spec)
    run = submit(lp.branched.pipeline_spec, {}, local_cluster.profile, client=kube)
    assert kube.calls == [] and run.status == "succeeded"
    assert _statuses(run) == {"count": "cached", "count-2": "skipped", "count-3": "cached", "count-4": "cached"}
    run = submit(lp.branched.pipeline_spec, {"rows": 6}, local_cluster.profile, client=kube)
    (manifest,) = kube.created()  # nothing cached for rows=6: the whole chain goes to the cluster
    assert "count-4" in dag_tasks(manifest, manifest["spec"]["entrypoint"])


def test_no_cache_submits_everything(local_cluster, kube):
    spec = pp.train_pipeline.pipeline_spec
    local_cluster.run(spec)
    submit(spec, {}, local_cluster.profile, client=kube, use_cache=False, embed_spec=True)
    (manifest,) = kube.created()
    assert set(dag_tasks(manifest, manifest["spec"]["entrypoint"])) == {"make-data", "train", "report"}
    assert any(p["name"] == "conveyor-spec" for p in manifest["spec"]["arguments"]["parameters"])


def test_a_refused_create_fails_the_run_with_one_line(local_cluster, kube):
    kube.fail_create = ApiException(403, "Forbidden", 'workflows.argoproj.io is forbidden: User "x" cannot create')
    with pytest.raises(LaunchError, match=r"HTTP 403 Forbidden \(the service account may not do this\)") as err:
        submit(pp.train_pipeline.pipeline_spec, {}, local_cluster.profile, client=kube)
    assert "\n" not in str(err.value)
    with local_cluster.store() as store:
        (record,) = store.list_runs()
        assert record.status == "failed" and "403" in record.error


def test_unknown_or_missing_arguments_are_refused_before_anything_happens(local_cluster, kube):
    with pytest.raises(PipelineDefinitionError, match="unknown argument"):
        submit(pp.train_pipeline.pipeline_spec, {"nope": 1}, local_cluster.profile, client=kube)
    with pytest.raises(PipelineDefinitionError, match="missing required argument.*marker|marker.*missing required"):
        submit(pp.retry_pipeline.pipeline_spec, {}, local_cluster.profile, client=kube)
    assert kube.calls == []
