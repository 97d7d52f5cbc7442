"""conveyor.client.Client with a profile: runs go through `conveyor.launcher.submit` / `schedule` to Argo
(a recording CustomObjectsApi here), their pods run for real (ArgoDriver) against the profile's stores,
and reading a run mirrors the Workflow's phase into the metadata store."""

from __future__ import annotations

import pytest

from tests.pipelines.launcher.conftest import RecordingCustomObjectsApi, local_cluster  # noqa: F401
from tests.pipelines.runtime import pod_pipelines as pp
from tests.pipelines.runtime.argo_driver import METADATA_SECRET, ArgoDriver


@pytest.fixture
def kube():
    return RecordingCustomObjectsApi()


@pytest.fixture
def client(local_cluster, kube, tmp_path):  # noqa: F811
    from conveyor.client import Client

    c = Client(profile=local_cluster.profile, home=tmp_path / "home", custom_objects_api=kube)
    yield c
    c.close()


def _finish(kube, cluster, manifest: dict, phase: str) -> None:
    """What the Argo controller does: run the pods, then report the Workflow's phase."""
    name = manifest["metadata"]["name"]
    results = ArgoDriver(manifest, {METADATA_SECRET: cluster.metadata_url}, cluster.workdir / name).run()
    nodes = {f"{name}-{i}": {"id": f"{name}-{i}", "name": f"{name}.{node}", "displayName": node, "type": "Pod",
                             "phase": "Succeeded" if r.succeeded else "Failed",
                             "inputs": {"parameters": [{"name": "conveyor-task", "value": r.task}]}}
             for i, (node, r) in enumerate(results.items())}
    kube.objects[("ml", "workflows", name)] = {**manifest, "status": {"phase": phase, "nodes": nodes}}


def test_create_run_submits_a_workflow_and_get_run_follows_it(client, kube, local_cluster):  # noqa: F811
    result = client.create_run_from_pipeline_func(pp.train_pipeline, arguments={"lr": 0.5}, service_account="trainer",
                                                  run_name="on-argo")
    (manifest,) = kube.created()
    assert manifest["spec"]["serviceAccountName"] == "trainer"
    assert result.run_info.state == "RUNNING" and result.run_info.display_name == "on-argo"
    _finish(kube, local_cluster, manifest, "Succeeded")
    run = client.wait_for_run_completion(result.run_id, timeout=30, sleep_duration=0.1)
    assert run.state == "SUCCEEDED" and run.finished_at is not None
    assert {t.task_id: t.state for t in run.run_details.task_details} == dict.fromkeys(
        ("make-data", "train", "report"), "SUCCEEDED")
    with local_cluster.store() as store:  # the same row `conveyor runs --profile` reads
        assert store.get_run(result.run_id).status == "succeeded"
    again = client.create_run_from_pipeline_func(pp.train_pipeline, arguments={"lr": 0.5})
    assert again.run_info.state == "SUCCEEDED" and len(kube.created()) == 1  # fully cached: no Workflow


def test_wait_times_out_while_the_workflow_runs(client, kube):
    result = client.create_run_from_pipeline_func(pp.train_pipeline, arguments={"lr": 0.75})
    (manifest,) = kube.created()
    kube.objects[("ml", "workflows", manifest["metadata"]["name"])] = {**manifest, "status": {"phase": "Running"}}
    with pytest.raises(TimeoutError, match="did not finish within 0.3 s; it is RUNNING"):
        client.wait_for_run_completion(result.run_id, timeout=0.3, sleep_duration=0.05)


def test_recurring_run_is_a_cron_workflow(client, kube, tmp_path):
    from conveyor.compiler.argo import CompileOptions, compile_workflow, to_yaml

    package = tmp_path / "train.yaml"
    image = CompileOptions(image="conveyor.local/conveyor-task:test")  # as `conveyor compile --image`
    package.write_text(to_yaml(compile_workflow(pp.train_pipeline.pipeline_spec, options=image)))
    exp = client.create_experiment("nightly")
    rec = client.create_recurring_run(exp.experiment_id, "Nightly Train", cron_expression="0 30 2 * * *",
                                      params={"lr": 0.1}, pipeline_package_path=str(package), max_concurrency=1)
    (cron,) = kube.created("cronworkflows")
    assert cron["spec"]["schedules"] == ["30 2 * * *"] and cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert rec.recurring_run_id == cron["metadata"]["name"] == "nightly-train"
    assert rec.cron_schedule == "30 2 * * *" and rec.experiment_id == exp.experiment_id


@pytest.mark.parametrize(("cron", "interval", "expected"), [
    ("0 0 3 * * *", None, "0 3 * * *"), ("@daily", None, "@daily"), (None, 900, "*/15 * * * *"),
    (None, 7200, "0 */2 * * *"), (None, 3600, "0 * * * *"), (None, 86400, "0 0 * * *")])
def test_kfp_triggers_become_argo_schedules(cron, interval, expected):
    from conveyor.client.schedules import cron_from_kfp

    assert cron_from_kfp(cron, interval) == expected


@pytest.mark.parametrize(("cron", "interval", "message"), [
    ("30 0 3 * * *", None, "seconds field .* must be 0"), (None, 90, "whole number of minutes"),
    (None, 7 * 60, "cannot be written as a cron schedule"), (None, None, "exactly one of")])
def test_triggers_argo_cannot_express_are_refused(cron, interval, message):
    from conveyor.client.schedules import cron_from_kfp

    with pytest.raises(ValueError, match=message):
        cron_from_kfp(cron, interval)
