import pytest
from dsl_components import add, echo, make_data, merge, numbers, report, total, train

from conveyor import dsl
from conveyor.ir import (
    All,
    Collected,
    Comparison,
    Constant,
    ExitHandlerGroup,
    LoopItem,
    Not,
    ParallelForGroup,
    PipelineDefinitionError,
    PipelineParam,
    TaskFinalStatus,
    TaskOutput,
)


def test_parallel_for_over_literal_dicts_with_parallelism_and_collected():
    @dsl.pipeline
    def hpo():
        data = make_data(rows=10)
        with dsl.ParallelFor([{"lr": 0.1}, {"lr": 0.01}], parallelism=2) as hp:
            t = train(data=data.outputs["data"], lr=hp.lr)
        total(values=dsl.Collected(t.outputs["accuracy"]))
        merge(models=dsl.Collected(t.outputs["model"]))

    spec = hpo.pipeline_spec
    loop = spec.groups["for-loop-1"]
    assert loop == ParallelForGroup(
        id="for-loop-1", items=Constant(value=[{"lr": 0.1}, {"lr": 0.01}]), parallelism=2
    )
    assert spec.tasks["train"].group == "for-loop-1"
    assert spec.tasks["train"].arguments["lr"] == LoopItem(loop_id="for-loop-1", field="lr")
    assert spec.tasks["total"].arguments["values"] == Collected(task="train", output="accuracy")
    assert spec.tasks["merge"].arguments["models"] == Collected(task="train", output="model")
    assert spec.tasks["total"].group is None


def test_parallel_for_over_param_and_dynamic_output_nested():
    @dsl.pipeline
    def dyn(items: list = [1, 2]):  # noqa: B006 - kfp style default
        n = numbers(n=3)
        with dsl.ParallelFor(items) as outer, dsl.ParallelFor(n.output, parallelism=0) as inner:
            add(a=outer, b=inner)

    spec = dyn.pipeline_spec
    assert spec.groups["for-loop-1"].items == PipelineParam(name="items")
    inner = spec.groups["for-loop-2"]
    assert (inner.parent, inner.items, inner.parallelism) == (
        "for-loop-1",
        TaskOutput(task="numbers", output="Output"),
        None,
    )
    assert spec.tasks["add"].arguments == {
        "a": LoopItem(loop_id="for-loop-1"),
        "b": LoopItem(loop_id="for-loop-2"),
    }
    assert spec.tasks["add"].group == "for-loop-2"


def test_loop_over_field_of_outer_item():
    @dsl.pipeline
    def grid():
        with dsl.ParallelFor([{"name": "a", "sizes": [1, 2]}]) as cfg, dsl.ParallelFor(cfg.sizes) as size:
            add(a=size)
            echo(text=cfg.name)

    spec = grid.pipeline_spec
    assert spec.groups["for-loop-2"].items == LoopItem(loop_id="for-loop-1", field="sizes")


def test_if_elif_else_become_structural_conditions():
    @dsl.pipeline
    def gate(threshold: float = 0.5):
        acc = train(data=make_data(rows=1).outputs["data"], lr=0.1).outputs["accuracy"]
        with dsl.If(acc > threshold):
            echo(text="good")
        with dsl.Elif(acc >= 0.25, name="meh"):
            echo(text="meh")
        with dsl.Else():
            echo(text="bad")
        with dsl.Condition(acc != 1.0):
            echo(text="not perfect")

    spec = gate.pipeline_spec
    high = Comparison(
        left=TaskOutput(task="train", output="accuracy"), op=">", right=PipelineParam(name="threshold")
    )
    mid = Comparison(left=TaskOutput(task="train", output="accuracy"), op=">=", right=Constant(value=0.25))
    groups = spec.groups
    assert groups["condition-1"].condition == high
    assert groups["condition-2"].condition == All(items=(Not(item=high), mid))
    assert groups["condition-3"].condition == All(items=(Not(item=high), Not(item=mid)))
    assert groups["condition-4"].condition.op == "!="
    assert [spec.tasks[n].group for n in ("echo", "echo-2", "echo-3", "echo-4")] == [
        "condition-1",
        "condition-2",
        "condition-3",
        "condition-4",
    ]


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
def test_six_operators_on_params_and_reversed_literals(op):
    import operator as o

    fn = {"==": o.eq, "!=": o.ne, "<": o.lt, "<=": o.le, ">": o.gt, ">=": o.ge}[op]

    @dsl.pipeline
    def p(n: int = 1):
        with dsl.If(fn(n, 3)):
            add(a=n)

    cond = p.pipeline_spec.groups["condition-1"].condition
    assert cond == Comparison(left=PipelineParam(name="n"), op=op, right=Constant(value=3))


def test_else_with_single_previous_is_plain_not():
    @dsl.pipeline
    def p(n: int = 1):
        with dsl.If(n == 1):
            add(a=n)
        with dsl.Else():
            add(a=2)

    assert p.pipeline_spec.groups["condition-2"].condition == Not(
        item=Comparison(left=PipelineParam(name="n"), op="==", right=Constant(value=1))
    )


@pytest.mark.parametrize("between", [True, False])
def test_elif_must_follow_if(between):
    @dsl.pipeline(name="bad-elif")
    def p(n: int = 1):
        if between:
            with dsl.If(n == 1):
                add(a=n)
            add(a=5)
        with dsl.Elif(n == 2):
            add(a=n)

    with pytest.raises(PipelineDefinitionError, match="pipeline 'bad-elif'.*must directly follow a dsl.If"):
        _ = p.pipeline_spec


def test_condition_needs_a_channel_not_a_python_value():
    @dsl.pipeline(name="bad-cond")
    def p():
        with dsl.If(3 > 2):
            add(a=1)

    with pytest.raises(
        PipelineDefinitionError, match="pipeline 'bad-cond', argument 'condition'.*Python `if`"
    ):
        _ = p.pipeline_spec


def test_channel_in_python_if_is_a_clear_error():
    @dsl.pipeline
    def p(n: int = 1):
        if n > 2:
            add(a=1)

    with pytest.raises(TypeError, match=r"dsl.If"):
        _ = p.pipeline_spec


def test_exit_handler_injects_final_status():
    @dsl.pipeline
    def guarded():
        notify = report(label="done")
        with dsl.ExitHandler(notify):
            add(a=1)
            with dsl.ParallelFor([1, 2]) as i:
                add(a=i)

    spec = guarded.pipeline_spec
    assert spec.groups["exit-handler-1"] == ExitHandlerGroup(id="exit-handler-1", exit_task="report")
    assert spec.tasks["report"].arguments == {"status": TaskFinalStatus(), "label": Constant(value="done")}
    assert spec.tasks["report"].group is None
    assert spec.groups["for-loop-1"].parent == "exit-handler-1"


def test_final_status_component_outside_exit_handler_is_an_error():
    @dsl.pipeline(name="no-exit")
    def p():
        report()

    with pytest.raises(PipelineDefinitionError, match="task 'report', argument 'status'.*ExitHandler"):
        _ = p.pipeline_spec


def test_control_flow_outside_pipeline_and_bad_items():
    with (
        pytest.raises(PipelineDefinitionError, match="only be used inside a @dsl.pipeline"),
        dsl.ParallelFor([1]),
    ):
        pass

    @dsl.pipeline(name="bad-items")
    def p():
        data = make_data(rows=1)
        with dsl.ParallelFor(data.outputs["data"]):
            add(a=1)

    with pytest.raises(PipelineDefinitionError, match="argument 'items'.*list parameter"):
        _ = p.pipeline_spec


def test_condition_on_loop_item_and_sub_pipeline_in_loop():
    @dsl.pipeline
    def per_item(x: int) -> int:
        return add(a=x).output

    @dsl.pipeline
    def outer():
        with dsl.ParallelFor([1, 2, 3], parallelism=1) as i:
            with dsl.If(i > 1):
                echo(text="big")
            sub = per_item(x=i)
        total(values=dsl.Collected(sub.output))

    spec = outer.pipeline_spec
    assert spec.groups["condition-1"].condition == Comparison(
        left=LoopItem(loop_id="for-loop-1"), op=">", right=Constant(value=1)
    )
    assert spec.groups["condition-1"].parent == "for-loop-1"
    assert spec.tasks["per-item.add"].group == "for-loop-1"
    assert spec.tasks["total"].arguments["values"] == Collected(task="per-item.add", output="Output")


def test_loop_item_condition_outside_loop_is_rejected():
    @dsl.pipeline(name="leaky")
    def p():
        with dsl.ParallelFor([1, 2]) as i:
            pass
        with dsl.If(i > 1):
            add(a=1)

    with pytest.raises(PipelineDefinitionError, match="pipeline 'leaky'.*does not enclose it"):
        _ = p.pipeline_spec
