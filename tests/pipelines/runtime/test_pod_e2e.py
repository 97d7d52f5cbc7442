"""The pod entrypoint end to end: compiled workflows run pod by pod against a real S3 API (moto),
the GCS emulator and a real Postgres; cache hits, misses, verification, retries, exit tasks."""

from __future__ import annotations

import pytest

from conveyor.runtime.outcome import EXIT_PERMANENT
from tests.pipelines.runtime import pod_pipelines as pp

pytestmark = pytest.mark.services


def _tasks(cluster, run_id):
    with cluster.store() as store:
        return {t.task_id: t for t in store.list_tasks(run_id)}


def test_first_run_computes_records_and_hands_outputs_to_argo(s3_cluster):
    spec = pp.train_pipeline.pipeline_spec
    run_id, nodes = s3_cluster.run(spec, arguments={"rows": "4"})
    assert all(n.succeeded for n in nodes.values())
    assert nodes["report"].outputs["Output"] == "0.75:lr=0.25 n=4"
    tasks = _tasks(s3_cluster, run_id)
    assert {t: r.status for t, r in tasks.items()} == {"make-data": "succeeded", "train": "succeeded",
                                                       "report": "succeeded"}
    with s3_cluster.store() as store:
        run = store.get_run(run_id)  # the first pod creates the run row when no launcher did
        assert run.pipeline_name == "pod-train"
        attempts = store.list_attempts(run_id, "train")
        assert [(a.number, a.status) for a in attempts] == [(1, "succeeded")]
        assert attempts[0].peak_rss_mb and attempts[0].peak_rss_mb > 0
        assert {(m.task_id, m.name, m.value) for m in store.list_metrics(run_id)} == {("train", "accuracy", 0.75)}
        lineage = {(x.task_id, x.direction) for x in store.list_lineage(run_id)}
        assert {("make-data", "out"), ("train", "in"), ("train", "out"), ("report", "in")} <= lineage
        assert store.consistency_report(run_id).ok
    model = tasks["train"].outputs["artifacts"]["model"]
    assert model["uri"].startswith(s3_cluster.artifact_root) and model["digest"].startswith("sha256:")
    assert s3_cluster.artifacts().verify(model["uri"], model["digest"], deep=True)


def test_second_run_is_served_from_the_cache_and_a_deleted_output_recomputes(s3_cluster):
    spec = pp.train_pipeline.pipeline_spec
    first, _ = s3_cluster.run(spec)
    second, nodes = s3_cluster.run(spec)
    assert {t: r.status for t, r in _tasks(s3_cluster, second).items()} == dict.fromkeys(
        ("make-data", "train", "report"), "cached")
    assert nodes["report"].outputs["Output"] == "0.75:lr=0.25 n=10"  # outputs written without running
    with s3_cluster.store() as store:
        assert store.list_attempts(second) == []
        assert store.get_task(second, "train").cached_from_run == first

    model = _tasks(s3_cluster, first)["train"].outputs["artifacts"]["model"]
    assert s3_cluster.artifacts().delete(model["uri"])
    third, nodes = s3_cluster.run(spec)
    statuses = {t: r.status for t, r in _tasks(s3_cluster, third).items()}
    # train's entry fails verification and recomputes; the same bytes give report the same key again
    assert statuses == {"make-data": "cached", "train": "succeeded", "report": "cached"}
    assert s3_cluster.artifacts().verify(model["uri"], model["digest"])


def test_changed_parameter_misses_and_no_cache_always_runs(s3_cluster):
    spec = pp.train_pipeline.pipeline_spec
    s3_cluster.run(spec)
    run_id, _ = s3_cluster.run(spec, arguments={"lr": "0.5"})
    assert {t: r.status for t, r in _tasks(s3_cluster, run_id).items()} == {
        "make-data": "cached", "train": "succeeded", "report": "succeeded"}
    uncached = spec.model_copy(update={"tasks": {n: t.model_copy(update={"caching": False})
                                                 for n, t in spec.tasks.items()}})
    run_id, _ = s3_cluster.run(uncached)
    assert {r.status for r in _tasks(s3_cluster, run_id).values()} == {"succeeded"}


def test_pod_without_the_project_runs_the_component_source(s3_cluster):
    """A plain image has no copy of the user's module: the runtime execs the recorded source."""
    spec = pp.train_pipeline.pipeline_spec
    components = {}
    for name, comp in spec.components.items():
        impl = comp.implementation.model_copy(update={"module_file": None, "module": None})
        components[name] = comp.model_copy(update={"implementation": impl})
    portable = spec.model_copy(update={"components": components})
    run_id, nodes = s3_cluster.run(portable)  # the spec travels embedded in the manifest here
    assert nodes["report"].outputs["Output"] == "0.75:lr=0.25 n=10"


def test_gcs_artifact_root(gcs_cluster):
    spec = pp.train_pipeline.pipeline_spec
    run_id, nodes = gcs_cluster.run(spec)
    assert all(n.succeeded for n in nodes.values())
    model = _tasks(gcs_cluster, run_id)["train"].outputs["artifacts"]["model"]
    assert model["uri"].startswith("gs://")
    assert gcs_cluster.artifacts().verify(model["uri"], model["digest"], deep=True)
    again, _ = gcs_cluster.run(spec)
    assert {r.status for r in _tasks(gcs_cluster, again).values()} == {"cached"}


def test_transient_failure_is_retried_with_numbered_attempts(s3_cluster, tmp_path):
    marker = tmp_path / "flaky-marker"
    run_id, nodes = s3_cluster.run(pp.retry_pipeline.pipeline_spec, arguments={"marker": str(marker)})
    assert nodes["flaky"].exit_codes == [4, 0]
    with s3_cluster.store() as store:
        attempts = store.list_attempts(run_id, "flaky")
        assert [(a.number, a.status, a.failure_class) for a in attempts] == [
            (1, "failed", "transient"), (2, "succeeded", None)]
        assert store.get_task(run_id, "flaky").outputs["parameters"] == {"Output": 7}


def test_permanent_failure_exits_3_and_the_exit_task_sees_the_failure(s3_cluster):
    run_id, nodes = s3_cluster.run(pp.exit_pipeline.pipeline_spec)
    assert nodes["broken"].exit_codes == [EXIT_PERMANENT]  # never retried, despite set_retry(3)
    assert nodes["announce"].outputs["Output"] == "FAILED:1"
    tasks = _tasks(s3_cluster, run_id)
    assert tasks["broken"].status == "failed" and "bad input 1" in tasks["broken"].error
    with s3_cluster.store() as store:
        assert store.list_attempts(run_id, "broken")[0].failure_class == "permanent"


def test_results_cached_by_a_local_run_are_hits_in_pods_and_back(s3_cluster, tmp_path):
    """One cache key everywhere: the local scheduler and the pod compute the same key for the same inputs."""
    from conveyor.executor.run import LocalRunner, RunOptions

    spec = pp.train_pipeline.pipeline_spec
    runner = LocalRunner(profile=s3_cluster.profile, home=tmp_path / "home")
    try:
        local = runner.run(spec, {"lr": 0.5}, options=RunOptions(parallelism=1))
        assert local.succeeded
        run_id, nodes = s3_cluster.run(spec, arguments={"lr": "0.5"})
        assert {r.status for r in _tasks(s3_cluster, run_id).values()} == {"cached"}
        assert nodes["report"].outputs["Output"] == "1.00:lr=0.5 n=10"

        cluster_first, _ = s3_cluster.run(spec, arguments={"rows": "3"})
        back = runner.run(spec, {"rows": 3}, options=RunOptions(parallelism=1))
        assert {t.status for t in back.tasks} == {"cached"}
        with s3_cluster.store() as store:
            assert store.get_task(back.run_id, "train").cached_from_run == cluster_first
    finally:
        runner.close()


def test_pods_push_task_metrics_to_the_pushgateway(s3_cluster, pushgateway_server):
    from conveyor.compiler.argo import CompileOptions, compile_workflow

    pushgateway_server.wipe()
    spec = pp.train_pipeline.pipeline_spec
    profile = s3_cluster.profile.model_copy(update={"pushgateway_url": pushgateway_server.url})
    s3_cluster.run(manifest=compile_workflow(spec, profile, CompileOptions(run_id="run-m1")))
    s3_cluster.run(manifest=compile_workflow(spec, profile, CompileOptions(run_id="run-m2")))
    text = pushgateway_server.metrics_text()
    assert 'conveyor_cache_hits_total{instance="argo",job="conveyor",pipeline="pod-train",task="train"} 1' in text
    assert 'conveyor_task_duration_seconds_count{instance="argo",job="conveyor",pipeline="pod-train",status="succeeded",task="report"} 1' in text
