import pytest

from conveyor.ir import (
    All,
    AnyOf,
    Comparison,
    ConditionEvaluationError,
    Constant,
    Not,
    PipelineParam,
    TaskOutput,
)
from conveyor.ir.conditions import compare, evaluate


def cmp(left, op, right):
    return Comparison(left=Constant(value=left), op=op, right=Constant(value=right))


def identity(arg):
    return arg.value


@pytest.mark.parametrize(
    ("left", "op", "right", "expected"),
    [
        (1, "==", 1, True),
        (1, "!=", 1, False),
        (1, "<", 2, True),
        (2, "<=", 2, True),
        (0.9, ">", 0.8, True),
        (0.8, ">=", 0.9, False),
        ("a", "==", "a", True),
        ("a", "<", "b", True),
        (1, "==", 1.0, True),
        (True, "==", True, True),
        (True, "!=", False, True),
    ],
)
def test_six_operators(left, op, right, expected):
    assert evaluate(cmp(left, op, right), identity) is expected


@pytest.mark.parametrize(("left", "right"), [("0.9", 0.5), (True, 1), (None, 1), ([1], 1)])
def test_mismatched_types_raise_not_false(left, right):
    with pytest.raises(ConditionEvaluationError, match="cannot compare"):
        evaluate(cmp(left, ">", right), identity)


def test_ordering_booleans_raises():
    with pytest.raises(ConditionEvaluationError, match="needs numbers or strings"):
        compare(True, "<", False)


def test_error_message_names_operands():
    cond = Comparison(
        left=TaskOutput(task="eval", output="accuracy"), op=">", right=PipelineParam(name="threshold")
    )
    values = {"task_output": "high", "pipeline_param": 0.5}
    with pytest.raises(ConditionEvaluationError, match=r"eval\.accuracy > pipeline parameter 'threshold'"):
        evaluate(cond, lambda a: values[a.kind])


def test_boolean_combinators_and_short_circuit():
    t, f = cmp(1, "==", 1), cmp(1, "==", 2)
    boom = cmp("x", "<", 1)  # would raise if evaluated
    assert evaluate(All(items=(t, t)), identity)
    assert not evaluate(All(items=(f, boom)), identity)
    assert evaluate(AnyOf(items=(t, boom)), identity)
    assert evaluate(Not(item=f), identity)
    assert evaluate(All(items=()), identity)


def test_unknown_operator():
    with pytest.raises(ConditionEvaluationError, match="unknown operator"):
        compare(1, "=~", 1)
