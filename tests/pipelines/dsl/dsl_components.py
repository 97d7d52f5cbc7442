"""Components shared by the DSL tests (a module, so their source is readable)."""

from __future__ import annotations

from typing import NamedTuple

from conveyor import dsl
from conveyor.dsl import (
    Dataset,
    Input,
    InputPath,
    Metrics,
    Model,
    Output,
    OutputPath,
    PipelineTaskFinalStatus,
)


def double(x: int) -> int:
    """A project-local helper: its source is part of `add`'s dependency digest."""
    return x * 2


@dsl.component
def add(a: int, b: int = 1) -> int:
    return double(a) + b


@dsl.component
def echo(text: str) -> str:
    return text


@dsl.component
def numbers(n: int) -> list:
    return list(range(n))


@dsl.component
def make_data(rows: int, data: Output[Dataset]) -> None:
    with open(data.path, "w") as f:
        f.write("x\n" * rows)


@dsl.component(
    base_image="python:3.11",
    packages_to_install=["scikit-learn"],
    cache_output_for_seconds=600,
    cache_version="v2",
)
def train(data: Input[Dataset], lr: float, model: Output[Model], metrics: Output[Metrics]) -> NamedTuple(
    "TrainOut", [("accuracy", float), ("name", str)]
):
    return (0.9, "m")


@dsl.component
def total(values: list) -> float:
    return float(sum(values))


@dsl.component
def merge(models: Input[list[Model]]) -> int:
    return len(models)


@dsl.component
def by_path(src: InputPath("Dataset"), count: OutputPath(int), note: str | None = None):
    pass


@dsl.component
def report(status: PipelineTaskFinalStatus, label: str = "run"):
    print(label, status.state)
