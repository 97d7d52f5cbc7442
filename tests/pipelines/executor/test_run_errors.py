"""A run ends `failed` with its error recorded whatever goes wrong, and a cost estimate never stops it."""

from __future__ import annotations

import pytest

from tests.pipelines.executor.conftest import by_name

GPU_WITHOUT_TYPE = """
@dsl.component
def train() -> int:
    return 1

@dsl.pipeline(name="gpu-untyped")
def gpu_untyped():
    train().set_gpu_limit(1).set_node_selector({"pool": "gpu"})
"""

ONE = """
@dsl.component
def first() -> int:
    return 1

@dsl.pipeline(name="one")
def one():
    first()
"""

OTHER = """
@dsl.component
def second() -> int:
    return 2

@dsl.pipeline(name="other")
def other():
    second()
"""


def test_a_gpu_task_without_accelerator_type_runs_and_its_cost_is_an_announced_floor(write_pipeline, run_file, runner):
    from conveyor.metrics.cost import DEFAULT_PRICES

    result = run_file(write_pipeline(GPU_WITHOUT_TYPE))
    assert result.status == "succeeded", result.error
    task = by_name(result)["train"]
    t4 = DEFAULT_PRICES["accelerators"]["t4"]["on_demand"]
    assert task.cost_usd == pytest.approx(t4 * task.duration_s / 3600, rel=0.05)
    assert any("'train'" in w and "no accelerator type" in w and "t4" in w for w in result.warnings), result.warnings
    assert runner.store.get_run(result.run_id).status == "succeeded"


def test_reused_options_run_a_second_pipeline_and_are_not_mutated(write_pipeline, run_file, runner):
    from conveyor.executor.run import RunOptions
    from conveyor.runtime.loader import find_pipeline

    options = RunOptions()
    for body in (ONE, OTHER):
        path = write_pipeline(body)
        result = runner.run(find_pipeline(path).pipeline_spec, {}, options=options, preload=[str(path)])
        assert result.status == "succeeded", result.error
        assert options.cost is None
    assert options == RunOptions()


def test_any_exception_leaves_the_run_failed_with_the_error_redacted(write_pipeline, runner):
    from conveyor.executor.run import RunOptions
    from conveyor.runtime.loader import find_pipeline

    def broken_cost(task: str, seconds: float) -> float:
        raise RuntimeError("price service at postgresql://admin:hunter2@db:5432/x is down")

    path = write_pipeline(ONE)
    with pytest.raises(RuntimeError, match="is down"):
        runner.run(find_pipeline(path).pipeline_spec, {}, options=RunOptions(cost=broken_cost), preload=[str(path)])
    (record,) = runner.store.list_runs()
    assert record.status == "failed"
    assert "RuntimeError" in record.error and "is down" in record.error
    assert "hunter2" not in record.error
    assert all(t.status != "running" for t in runner.store.list_tasks(record.run_id))
