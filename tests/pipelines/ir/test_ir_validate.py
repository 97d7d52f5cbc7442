import pytest
from ir_builders import CONSUME, PRODUCE, art, comp, out, param, pipeline, task

from conveyor.ir import (
    Collected,
    Comparison,
    ConditionGroup,
    Constant,
    ExitHandlerGroup,
    InputSpec,
    LoopItem,
    ParallelForGroup,
    PipelineDefinitionError,
    PipelineParam,
    TaskFinalStatus,
    TaskOutput,
    validate,
)

A_OUT = TaskOutput(task="a", output="Output")
MAKE_DS = comp("make_ds", outputs=[out("data", "Dataset", "artifact")])
READ_DS = comp("read_ds", inputs=[art("data")])
GATHER = comp("gather", inputs=[param("xs", "list")])
GATHER_DS = comp("gather_ds", inputs=[art("data", is_list=True)])
STATUS = comp("status", inputs=[InputSpec(name="s", kind="parameter", type="dict", style="final_status")])


def fails(spec, *fragments):
    with pytest.raises(PipelineDefinitionError) as info:
        validate(spec)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)
    return info.value


def test_sound_pipeline_passes():
    spec = pipeline(
        components=[PRODUCE, CONSUME],
        tasks=[task("a", "produce"), task("b", "consume", arguments={"x": A_OUT})],
    )
    assert validate(spec) is spec


def test_cycle_names_the_path():
    spec = pipeline(
        components=[CONSUME],
        tasks=[
            task("a", "consume", arguments={"x": TaskOutput(task="b", output="Output")}),
            task("b", "consume", arguments={"x": A_OUT}),
        ],
    )
    err = fails(spec, "pipeline 'p'", "cycle", "a -> b -> a")
    assert err.task == "a"


def test_cycle_through_after():
    spec = pipeline(
        components=[PRODUCE], tasks=[task("a", "produce", after=("b",)), task("b", "produce", after=("a",))]
    )
    fails(spec, "cycle")


def test_missing_required_argument():
    err = fails(
        pipeline(components=[CONSUME], tasks=[task("b", "consume")]), "task 'b'", "argument 'x'", "missing"
    )
    assert (err.pipeline, err.task, err.argument) == ("p", "b", "x")


def test_default_and_optional_inputs_are_not_required():
    c = comp("c", inputs=[param("x", has_default=True, default=1), param("y", optional=True)])
    validate(pipeline(components=[c], tasks=[task("t", "c")]))


def test_unknown_argument_lists_allowed():
    spec = pipeline(
        components=[CONSUME],
        tasks=[task("b", "consume", arguments={"x": Constant(value=1), "z": Constant(value=2)})],
    )
    fails(spec, "argument 'z'", "unknown argument", "['x']")


@pytest.mark.parametrize("value", ["1", 1.5, True, None, [1]])
def test_wrong_constant_type(value):
    spec = pipeline(
        components=[CONSUME], tasks=[task("b", "consume", arguments={"x": Constant(value=value)})]
    )
    fails(spec, "argument 'x'", "expected int")


def test_int_constant_accepted_for_float():
    c = comp("c", inputs=[param("x", "float")])
    validate(pipeline(components=[c], tasks=[task("t", "c", arguments={"x": Constant(value=1)})]))


def test_unknown_output_name_lists_outputs():
    spec = pipeline(
        components=[PRODUCE, CONSUME],
        tasks=[
            task("a", "produce"),
            task("b", "consume", arguments={"x": TaskOutput(task="a", output="nope")}),
        ],
    )
    fails(spec, "task 'b'", "no output 'nope'", "['Output']")


def test_unknown_upstream_task():
    spec = pipeline(components=[CONSUME], tasks=[task("b", "consume", arguments={"x": A_OUT})])
    fails(spec, "unknown task 'a'")


def test_artifact_passed_where_parameter_expected():
    spec = pipeline(
        components=[MAKE_DS, CONSUME],
        tasks=[
            task("a", "make_ds"),
            task("b", "consume", arguments={"x": TaskOutput(task="a", output="data")}),
        ],
    )
    fails(spec, "argument 'x'", "is an artifact (Dataset)", "expects a parameter (int)")


def test_parameter_passed_where_artifact_expected():
    spec = pipeline(
        components=[PRODUCE, READ_DS],
        tasks=[task("a", "produce"), task("b", "read_ds", arguments={"data": A_OUT})],
    )
    fails(spec, "argument 'data'", "is a parameter", "expects an artifact")


def test_constant_passed_to_artifact():
    spec = pipeline(
        components=[READ_DS], tasks=[task("b", "read_ds", arguments={"data": Constant(value="x")})]
    )
    fails(spec, "artifact Dataset is expected")


def test_mismatched_parameter_types():
    c = comp("c", inputs=[param("x", "str")])
    spec = pipeline(
        components=[PRODUCE, c], tasks=[task("a", "produce"), task("b", "c", arguments={"x": A_OUT})]
    )
    fails(spec, "has type int but the input expects str")


def test_unknown_pipeline_param_and_kind():
    spec = pipeline(
        components=[CONSUME], tasks=[task("b", "consume", arguments={"x": PipelineParam(name="n")})]
    )
    fails(spec, "unknown pipeline parameter 'n'")
    spec = pipeline(
        inputs=[param("n", "str")],
        components=[CONSUME],
        tasks=[task("b", "consume", arguments={"x": PipelineParam(name="n")})],
    )
    fails(spec, "pipeline parameter 'n' has type str")


def test_loop_item_outside_loop():
    spec = pipeline(
        components=[CONSUME],
        groups=[ParallelForGroup(id="loop", items=Constant(value=[1]))],
        tasks=[task("b", "consume", arguments={"x": LoopItem(loop_id="loop")})],
    )
    fails(spec, "used outside that ParallelFor")


def test_loop_items_must_be_list_and_parallelism_positive():
    fails(pipeline(groups=[ParallelForGroup(id="l", items=Constant(value=3))]), "items must be a list")
    fails(pipeline(groups=[ParallelForGroup(id="l", items=Constant(value=[]), parallelism=0)]), "parallelism")


def test_reading_loop_output_outside_loop_needs_collected():
    groups = [ParallelForGroup(id="loop", items=Constant(value=[1, 2]))]
    spec = pipeline(
        components=[PRODUCE, CONSUME],
        groups=groups,
        tasks=[task("a", "produce", group="loop"), task("b", "consume", arguments={"x": A_OUT})],
    )
    fails(spec, "dsl.Collected")
    ok = pipeline(
        components=[PRODUCE, GATHER],
        groups=groups,
        tasks=[
            task("a", "produce", group="loop"),
            task("b", "gather", arguments={"xs": Collected(task="a", output="Output")}),
        ],
    )
    validate(ok)


def test_collected_rules():
    groups = [ParallelForGroup(id="loop", items=Constant(value=[1, 2]))]
    not_in_loop = pipeline(
        components=[PRODUCE, GATHER],
        tasks=[
            task("a", "produce"),
            task("b", "gather", arguments={"xs": Collected(task="a", output="Output")}),
        ],
    )
    fails(not_in_loop, "needs a producer inside a ParallelFor")
    same_loop = pipeline(
        components=[PRODUCE, GATHER],
        groups=groups,
        tasks=[
            task("a", "produce", group="loop"),
            task("b", "gather", group="loop", arguments={"xs": Collected(task="a", output="Output")}),
        ],
    )
    fails(same_loop, "needs a producer inside a ParallelFor")
    artifacts_to_single = pipeline(
        components=[MAKE_DS, READ_DS],
        groups=groups,
        tasks=[
            task("a", "make_ds", group="loop"),
            task("b", "read_ds", arguments={"data": Collected(task="a", output="data")}),
        ],
    )
    fails(artifacts_to_single, "Input[List[Dataset]]")
    validate(
        pipeline(
            components=[MAKE_DS, GATHER_DS],
            groups=groups,
            tasks=[
                task("a", "make_ds", group="loop"),
                task("b", "gather_ds", arguments={"data": Collected(task="a", output="data")}),
            ],
        )
    )


def test_list_input_needs_collected():
    spec = pipeline(
        components=[MAKE_DS, GATHER_DS],
        tasks=[
            task("a", "make_ds"),
            task("b", "gather_ds", arguments={"data": TaskOutput(task="a", output="data")}),
        ],
    )
    fails(spec, "needs dsl.Collected")


def test_reading_conditional_output_outside_condition():
    cond = Comparison(left=Constant(value=1), op="==", right=Constant(value=1))
    spec = pipeline(
        components=[PRODUCE, CONSUME],
        groups=[ConditionGroup(id="if", condition=cond)],
        tasks=[task("a", "produce", group="if"), task("b", "consume", arguments={"x": A_OUT})],
    )
    fails(spec, "may be skipped")


def test_condition_operands_are_checked():
    cond = Comparison(left=TaskOutput(task="a", output="nope"), op=">", right=Constant(value=1))
    spec = pipeline(
        components=[PRODUCE], groups=[ConditionGroup(id="if", condition=cond)], tasks=[task("a", "produce")]
    )
    fails(spec, "no output 'nope'")
    cond = Comparison(left=TaskOutput(task="a", output="data"), op="==", right=Constant(value=1))
    spec = pipeline(
        components=[MAKE_DS], groups=[ConditionGroup(id="if", condition=cond)], tasks=[task("a", "make_ds")]
    )
    fails(spec, "only parameters are allowed")


def test_group_structure_errors():
    fails(
        pipeline(groups=[ParallelForGroup(id="l", parent="ghost", items=Constant(value=[]))]),
        "unknown parent",
    )
    fails(pipeline(components=[PRODUCE], tasks=[task("a", "produce", group="ghost")]), "unknown group")
    fails(pipeline(tasks=[task("a", "ghost")]), "unknown component 'ghost'")
    fails(pipeline(components=[PRODUCE], tasks=[task("a", "produce", after=("z",))]), "unknown task 'z'")


def test_exit_handler_rules():
    fails(pipeline(groups=[ExitHandlerGroup(id="e", exit_task="x")]), "exit task 'x' does not exist")
    inside = pipeline(
        components=[STATUS],
        groups=[ExitHandlerGroup(id="e", exit_task="s")],
        tasks=[task("s", "status", group="e", arguments={"s": TaskFinalStatus()})],
    )
    fails(inside, "must be outside")
    validate(
        pipeline(
            components=[STATUS, PRODUCE],
            groups=[ExitHandlerGroup(id="e", exit_task="s")],
            tasks=[task("a", "produce", group="e"), task("s", "status", arguments={"s": TaskFinalStatus()})],
        )
    )


def test_final_status_only_for_exit_task():
    spec = pipeline(components=[STATUS], tasks=[task("s", "status", arguments={"s": TaskFinalStatus()})])
    fails(spec, "only available to an ExitHandler")
    spec = pipeline(components=[CONSUME], tasks=[task("b", "consume", arguments={"x": TaskFinalStatus()})])
    fails(spec, "only passed to a PipelineTaskFinalStatus")


def test_pipeline_outputs_checked():
    fails(
        pipeline(
            components=[PRODUCE],
            tasks=[task("a", "produce")],
            outputs={"o": TaskOutput(task="a", output="x")},
        ),
        "no output 'x'",
    )
