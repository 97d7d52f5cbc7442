"""A pipeline that takes dsl.PipelineTaskFinalStatus, used as an ExitHandler's exit task. kfp's local
runner has no ExitHandler, so the meaning comes from kfp's compiled spec (the sub-pipeline runs once
the handler's tasks completed, in any state); conveyor runs it that way locally and in Argo's onExit."""

from __future__ import annotations

import pytest

from conveyor import dsl
from conveyor.compiler.argo import CompileOptions, compile_workflow
from conveyor.dsl import PipelineTaskFinalStatus
from conveyor.ir import PipelineDefinitionError
from conveyor.runtime.loader import find_pipeline
from tests.pipelines.compiler.helpers import dag_tasks
from tests.pipelines.kfp.compat import compile_with_kfp, fixture, only_imports_mention_conveyor

FIXTURE = fixture("exit_pipeline.py")
TEST_IMAGE = "conveyor.local/conveyor-task:test"


def test_kfp_compiles_the_exit_pipeline_as_a_completed_trigger(tmp_path):
    pytest.importorskip("kfp")
    import yaml

    assert only_imports_mention_conveyor(FIXTURE)
    kfp = yaml.safe_load(compile_with_kfp(FIXTURE, tmp_path, "exit_pipeline_pipeline").read_text())
    notify = kfp["root"]["dag"]["tasks"]["notify-pipeline"]
    assert notify["triggerPolicy"] == {"strategy": "ALL_UPSTREAM_TASKS_COMPLETED"}
    assert notify["inputs"]["parameters"]["status"] == {"taskFinalStatus": {"producerTask": "exit-handler-1"}}
    kfp_inner = set(kfp["components"]["comp-notify-pipeline"]["dag"]["tasks"])
    spec = find_pipeline(FIXTURE, "exit_pipeline_pipeline").pipeline_spec
    (group,) = [g for g in spec.groups.values() if g.kind == "exit_handler"]
    assert {t.split(".", 1)[1] for t in group.exit_tasks} == kfp_inner


@pytest.mark.parametrize("fail", [False, True])
def test_exit_pipeline_runs_after_success_and_failure(fail, run_file):
    result = run_file(FIXTURE, {"fail": fail}, name="exit_pipeline_pipeline")
    assert result.succeeded is (not fail)
    status = {t.task: t.status for t in result.tasks}
    assert status == {"work": "failed" if fail else "succeeded", "notify-pipeline.report": "succeeded",
                      "notify-pipeline.report-2": "succeeded"}


def test_exit_pipeline_compiles_into_on_exit_in_its_own_order(argo_schema):
    spec = find_pipeline(FIXTURE, "exit_pipeline_pipeline").pipeline_spec
    manifest = compile_workflow(spec, options=CompileOptions(image=TEST_IMAGE))
    argo_schema.check(manifest)
    on_exit = dag_tasks(manifest, manifest["spec"]["onExit"])
    assert len(on_exit) == 2
    second = next(t for t in on_exit.values() if t.get("dependencies"))
    assert second["dependencies"] == [next(n for n in on_exit if n != second["name"])]
    assert "work" in dag_tasks(manifest, manifest["spec"]["entrypoint"])


def test_the_status_reaches_a_component_inside_the_exit_pipeline(write_pipeline, run_file):
    """kfp refuses this (its inner component is "not an exit task"); conveyor hands the status on."""
    path = write_pipeline("""
    from conveyor.dsl import PipelineTaskFinalStatus

    @dsl.component
    def say(status: PipelineTaskFinalStatus) -> str:
        return status.state

    @dsl.pipeline
    def notify(status: PipelineTaskFinalStatus):
        say()

    @dsl.component
    def boom():
        raise RuntimeError("no")

    @dsl.pipeline
    def main():
        with dsl.ExitHandler(notify()):
            boom()
    """)
    result = run_file(path, name="main")
    (say,) = [t for t in result.tasks if t.task == "notify.say"]
    assert say.status == "succeeded" and not result.succeeded


def test_a_final_status_pipeline_cannot_run_on_its_own():
    @dsl.component
    def noop() -> None:
        pass

    @dsl.pipeline
    def notify(status: PipelineTaskFinalStatus):
        noop()

    with pytest.raises(PipelineDefinitionError, match="only runs as the exit task of another pipeline"):
        _ = notify.pipeline_spec
