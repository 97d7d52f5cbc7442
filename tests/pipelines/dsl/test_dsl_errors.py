"""Every authoring error is caught at build time and names pipeline, task and argument."""

import pytest
from dsl_components import add, echo, make_data, numbers, total, train

from conveyor import dsl
from conveyor.ir import PipelineDefinitionError


def build_error(body, name="broken"):
    if body.__code__.co_argcount == 0:
        original = body

        def body():  # pipelines return outputs, not tasks: drop what the lambda returns
            original()

    pipeline = dsl.pipeline(name=name)(body)
    with pytest.raises(PipelineDefinitionError) as info:
        _ = pipeline.pipeline_spec
    return info.value


def where(err):
    return (err.pipeline, err.task, err.argument)


def test_cycle():
    def body():
        a = add(a=1)
        b = add(a=a.output)
        a.after(b)

    err = build_error(body)
    assert "cycle" in str(err) and "add -> add-2 -> add" in str(err) and err.pipeline == "broken"


def test_missing_required_argument():
    err = build_error(lambda: add(b=2))
    assert where(err) == ("broken", "add", "a") and "missing required argument of type int" in str(err)


def test_unknown_argument():
    err = build_error(lambda: add(a=1, c=2))
    assert where(err) == ("broken", "add", "c") and "allowed: ['a', 'b']" in str(err)


@pytest.mark.parametrize("value", ["1", 1.5, True, [1], {"a": 1}, None])
def test_wrong_constant_type(value):
    err = build_error(lambda: add(a=value))
    assert where(err) == ("broken", "add", "a") and "expected int" in str(err)


def test_wrong_upstream_type():
    def body():
        echo_task = echo(text="x")
        add(a=echo_task.output)

    err = build_error(body)
    assert where(err) == ("broken", "add", "a") and "has type str but the input expects int" in str(err)


def test_unknown_output_name():
    def body():
        add(a=train(data=make_data(rows=1).outputs["data"], lr=0.1).outputs["acc"])

    err = build_error(body)
    assert err.task == "train" and "no output 'acc'" in str(err) and "'accuracy'" in str(err)


def test_artifact_where_parameter_expected():
    err = build_error(lambda: add(a=make_data(rows=1).outputs["data"]))
    assert where(err) == ("broken", "add", "a")
    assert "is an artifact (Dataset) but the input expects a parameter (int)" in str(err)


def test_parameter_where_artifact_expected():
    err = build_error(lambda: train(data=add(a=1).output, lr=0.1))
    assert where(err) == ("broken", "train", "data") and "expects an artifact (Dataset)" in str(err)


def test_constant_where_artifact_expected():
    err = build_error(lambda: train(data="/tmp/data.csv", lr=0.1))
    assert where(err) == ("broken", "train", "data") and "constant '/tmp/data.csv'" in str(err)


def test_task_passed_instead_of_output():
    err = build_error(lambda: add(a=add(a=1)))
    assert where(err) == ("broken", "add-2", "a") and "task.output" in str(err)


def test_positional_arguments():
    err = build_error(lambda: add(1))
    assert err.task == "add" and "keyword arguments only" in str(err)


def test_loop_output_read_outside_without_collected():
    def body():
        with dsl.ParallelFor([1, 2]) as i:
            a = add(a=i)
        add(a=a.output)

    err = build_error(body)
    assert where(err) == ("broken", "add-2", "a") and "dsl.Collected" in str(err)


def test_loop_item_used_outside_its_loop():
    def body():
        with dsl.ParallelFor([1, 2]) as i:
            pass
        add(a=i)

    err = build_error(body)
    assert where(err) == ("broken", "add", "a") and "outside that ParallelFor" in str(err)


def test_collected_outside_any_loop():
    def body():
        total(values=dsl.Collected(numbers(n=2).output))

    err = build_error(body)
    assert where(err) == ("broken", "total", "values") and "inside a ParallelFor" in str(err)


def test_conditional_output_used_outside_condition():
    def body(n: int = 1):
        with dsl.If(n > 0):
            a = add(a=n)
        add(a=a.output)

    err = build_error(body)
    assert where(err) == ("broken", "add-2", "a") and "may be skipped" in str(err)


def test_after_self():
    def body():
        a = add(a=1)
        a.after(a)

    assert "cannot run .after() itself" in str(build_error(body))
