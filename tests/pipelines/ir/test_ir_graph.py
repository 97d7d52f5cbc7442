import pytest
from ir_builders import CONSUME, PRODUCE, pipeline, task

from conveyor.ir import (
    Comparison,
    ConditionGroup,
    Constant,
    ExitHandlerGroup,
    ParallelForGroup,
    TaskOutput,
    dependencies,
    enclosing_loops,
    exit_handler_members,
    group_chain,
    topological_order,
)


def spec():
    return pipeline(
        components=[PRODUCE, CONSUME],
        groups=[
            ExitHandlerGroup(id="exit", exit_task="notify"),
            ParallelForGroup(id="outer", parent="exit", items=TaskOutput(task="src", output="Output")),
            ParallelForGroup(id="inner", parent="outer", items=Constant(value=[1, 2])),
            ConditionGroup(
                id="if",
                parent="inner",
                condition=Comparison(
                    left=TaskOutput(task="gate", output="Output"), op=">", right=Constant(value=0)
                ),
            ),
        ],
        tasks=[
            task("src", "produce", group="exit"),
            task("gate", "produce", group="exit"),
            task("work", "consume", group="if", arguments={"x": Constant(value=1)}),
            task("last", "produce", group="exit", after=("src",)),
            task("notify", "produce"),
        ],
    )


def test_group_chain_innermost_first():
    assert group_chain(spec(), "if") == ["if", "inner", "outer", "exit"]
    assert enclosing_loops(spec(), "work") == ["inner", "outer"]


def test_dependencies_include_group_inputs_and_exit_members():
    s = spec()
    assert dependencies(s, "work") == {"src", "gate"}
    assert dependencies(s, "last") == {"src"}
    assert dependencies(s, "notify") == {"src", "gate", "work", "last"}
    assert sorted(exit_handler_members(s, "exit")) == ["gate", "last", "src", "work"]


def test_topological_order_is_stable_and_respects_edges():
    order = topological_order(spec())
    assert order == ["gate", "src", "last", "work", "notify"]


def test_topological_order_rejects_cycle():
    s = pipeline(
        components=[PRODUCE], tasks=[task("a", "produce", after=("b",)), task("b", "produce", after=("a",))]
    )
    with pytest.raises(ValueError, match="cycle"):
        topological_order(s)
