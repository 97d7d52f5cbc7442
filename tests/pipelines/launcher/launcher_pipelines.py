"""Pipelines for the launcher tests: conditions and an exit handler on top of the pod pipelines."""

from __future__ import annotations

from conveyor import dsl
from tests.pipelines.runtime.pod_pipelines import announce, make_data, report, train


@dsl.component
def count(n: int) -> int:
    return n * 2


@dsl.pipeline(name="gated")
def gated(rows: int = 5, threshold: int = 100):
    doubled = count(n=rows)
    with dsl.If(doubled.output > threshold):
        make_data(rows=rows)


@dsl.pipeline(name="branched")
def branched(rows: int = 5, threshold: int = 100) -> int:
    doubled = count(n=rows)
    with dsl.If(doubled.output > threshold):
        big = count(n=1)
    with dsl.Else():
        small = count(n=2)
    return count(n=dsl.OneOf(big.output, small.output)).output


@dsl.pipeline(name="train-with-exit")
def train_with_exit(lr: float = 0.25):
    note = announce()
    with dsl.ExitHandler(note):
        data = make_data(rows=4)
        trained = train(data=data.outputs["data"], lr=lr)
        report(acc=trained.outputs["Output"], model=trained.outputs["model"])
