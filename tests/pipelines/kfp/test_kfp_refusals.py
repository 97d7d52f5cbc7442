"""What conveyor refuses at authoring time, each with a message that says why and what to write."""

from __future__ import annotations

import pytest

from conveyor import dsl
from conveyor.dsl import Dataset, Output
from conveyor.ir import Constant, PipelineDefinitionError


@dsl.component
def echo(text: str) -> str:
    return text


@dsl.component
def count(n: int) -> int:
    return n


@dsl.component
def make(out: Output[Dataset]):
    with open(out.path, "w") as fh:
        fh.write("x")


def _build(func):
    return dsl.pipeline(func).pipeline_spec


def test_a_formatted_string_becomes_a_run_time_concat():
    def p(name: str = "a"):
        first = echo(text=name)
        echo(text=f"{first.output}-{name}!")

    arg = _build(p).tasks["echo-2"].arguments["text"]
    assert arg.kind == "concat"
    assert [part.kind for part in arg.parts] == ["task_output", "constant", "pipeline_param", "constant"]


def test_a_formatted_string_into_an_int_input_is_refused():
    def p(n: int = 1):
        count(n=f"{n}")

    with pytest.raises(PipelineDefinitionError, match="formatted string .* is a str, but the input expects"):
        _build(p)


def test_an_artifact_cannot_be_formatted():
    def p():
        echo(text=f"uri={make().outputs['out']}")

    with pytest.raises(TypeError, match="is an artifact and cannot be formatted"):
        _build(p)


@pytest.mark.parametrize("setter", ["display_name", "env"])
def test_build_time_settings_refuse_run_time_values(setter):
    def p(name: str = "a"):
        task = echo(text="x")
        if setter == "display_name":
            task.set_display_name(f"run {name}")
        else:
            task.set_env_variable("NAME", f"{name}")

    with pytest.raises(PipelineDefinitionError, match="only has a value at run time"):
        _build(p)


@pytest.mark.parametrize("setter", ["set_accelerator_type", "set_accelerator_limit"])
def test_accelerators_from_pipeline_values_are_refused_with_the_alternative(setter):
    def p(value: str = "2"):
        getattr(echo(text="x"), setter)(value)

    with pytest.raises(PipelineDefinitionError, match="pass a literal such as"):
        _build(p)


def test_a_constant_never_carries_a_placeholder():
    with pytest.raises(ValueError, match="has no value while the pipeline is built"):
        Constant(value=["{{channel:task=;name=x;type=str;}}"])


def test_a_conditional_output_outside_its_condition_points_at_one_of():
    def p(s: str = "a"):
        with dsl.If(s == "a"):
            t = echo(text="x")
        echo(text=t.output)

    with pytest.raises(PipelineDefinitionError, match=r"dsl\.OneOf"):
        _build(p)


def test_one_of_needs_branch_outputs():
    def p(s: str = "a"):
        a = echo(text="x")
        b = echo(text="y")
        echo(text=dsl.OneOf(a.output, b.output))

    with pytest.raises(PipelineDefinitionError, match="does not run inside a dsl.If/Elif/Else branch"):
        _build(p)


def test_kfp_config_and_artifact_type_paths_import():
    from conveyor.dsl.types.artifact_types import Dataset as D

    assert D is Dataset
    config = dsl.PipelineConfig(workspace=dsl.WorkspaceConfig(size="10Gi"))
    assert config.workspace.size == "10Gi"
    with pytest.raises(ValueError, match="WorkspaceConfig size"):
        dsl.WorkspaceConfig(size="lots")
    with pytest.raises(RuntimeError, match="only be called while a task runs"):
        dsl.get_uri()


def test_notebook_component_is_refused_with_what_to_write_instead():
    with pytest.raises(PipelineDefinitionError, match=r"notebook_component is not supported.*embedded_artifact_path"):
        @dsl.notebook_component(notebook_path="analysis.ipynb")
        def analyse(rows: int):
            dsl.run_notebook(rows=rows)


@dsl.component
def total(nums: list) -> int:
    return sum(nums)


def test_collected_through_a_condition_inside_the_loop_is_refused_with_the_alternative():
    """kfp compiles this (it collects only the iterations where the condition held); conveyor refuses
    it for now, locally and for Argo alike, and says what to write instead."""
    def p(threshold: int = 2):
        with dsl.ParallelFor([1, 2, 3]) as x, dsl.Condition(x >= threshold):
            t = count(n=x)
        total(nums=dsl.Collected(t.output))

    with pytest.raises(PipelineDefinitionError, match=r"Collected\(count.*inside condition .* inside the loop "
                       r"is not supported.*return None for the items to leave out"):
        _build(p)


def test_collected_of_a_loop_with_the_condition_around_the_consumer_still_works():
    def p(threshold: int = 2):
        with dsl.ParallelFor([1, 2, 3]) as x:
            t = count(n=x)
        with dsl.Condition(threshold == 2):
            total(nums=dsl.Collected(t.output))

    assert _build(p).tasks["total"].arguments["nums"].kind == "collected"
