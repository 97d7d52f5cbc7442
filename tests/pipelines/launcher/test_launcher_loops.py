"""Submit-time resolution through a ParallelFor with known items: a laptop run's per-item cache
entries make the re-submit fully cached (no Workflow), as the real-cluster e2e test needs for the
training example; one changed argument leaves the loop to the cluster."""

from __future__ import annotations

from pathlib import Path

from conveyor.executor.run import LocalRunner
from conveyor.launcher import submit
from tests.pipelines.launcher import loop_pipelines as lp


def _seed(home: Path, arguments: dict) -> None:
    runner = LocalRunner(home=home)
    try:
        result = runner.run(lp.loop_grid.pipeline_spec, arguments, preload=[lp.__file__])
    finally:
        runner.close()
    assert result.succeeded, result.error


def test_a_loop_cached_item_by_item_makes_the_resubmit_fully_cached(local_cluster, kube):
    _seed(local_cluster.workdir, {"seed": 1})
    run = submit(lp.loop_grid.pipeline_spec, {"seed": 1}, local_cluster.profile, client=kube)
    assert kube.calls == [] and run.workflow is None and run.status == "succeeded"
    statuses = {t["name"]: t["status"] for t in run.tasks}
    assert statuses == {"fit[0]": "cached", "fit[1]": "cached", "fit[2]": "cached", "best": "cached"}
    assert run.outputs == {"Output": 51.0}


def test_a_changed_argument_leaves_the_loop_to_the_cluster(local_cluster, kube):
    _seed(local_cluster.workdir, {"seed": 1})
    run = submit(lp.loop_grid.pipeline_spec, {"seed": 2}, local_cluster.profile, client=kube)
    assert run.workflow is not None and len(kube.created()) == 1
    assert {t["status"] for t in run.tasks} <= {"pending", "running"}


def test_with_an_exit_handler_only_the_notification_runs_after_a_pod_less_entrypoint(local_cluster, kube):
    """Every run notifies (issue 12): the Workflow holds the exit task and a zero-length suspend as its
    entrypoint (no pod; Argo needs an entrypoint for onExit to follow); the fully cached loop and
    every body task are not in it at all."""
    runner = LocalRunner(home=local_cluster.workdir)
    try:
        assert runner.run(lp.loop_grid_exit.pipeline_spec, {"seed": 1}, preload=[lp.__file__]).succeeded
    finally:
        runner.close()
    run = submit(lp.loop_grid_exit.pipeline_spec, {"seed": 1}, local_cluster.profile, client=kube)
    (manifest,) = kube.created()
    templates = {t["name"]: t for t in manifest["spec"]["templates"]}
    assert not any(n.startswith("for-loop") for n in templates), list(templates)
    containers = {n for n, t in templates.items() if "container" in t}
    assert containers == {"announce"}, containers
    entry = templates[manifest["spec"]["entrypoint"]]
    assert entry["suspend"] == {"duration": "0"} and "dag" not in entry and "container" not in entry
    assert manifest["spec"]["onExit"] in templates
    assert run.status == "running"
