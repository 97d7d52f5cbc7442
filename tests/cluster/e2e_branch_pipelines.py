"""Pipelines of the kfp branch scenarios (tests/cluster/test_e2e_kfp_branches.py): dsl.OneOf over
If/Else, for a parameter and for an artifact, and .ignore_upstream_failure() with an input read from
an upstream that fails. The same pipelines run under the local executor in
tests/pipelines/kfp/test_kfp_branch_parity.py, which asserts the values the cluster test asserts.

Components declare the training example's packages, as in e2e_pipelines.py, so these pods run the
one task image the platform fixture built for the scenarios. Nothing here imports ``tests.*``: the
CLI loads this file by path, without the repository on its import path.
"""

from __future__ import annotations

import functools
from pathlib import Path

from conveyor import dsl
from conveyor.dsl import Dataset, Input, Output
from conveyor.runtime.loader import load_module_file

TRAINING = Path(__file__).resolve().parents[2] / "pipelines" / "examples" / "training.py"
component = functools.partial(dsl.component, packages_to_install=load_module_file(TRAINING).EXAMPLE_PACKAGES)


@component
def coin(heads: bool) -> str:
    return "heads" if heads else "tails"


@component
def say(text: str) -> str:
    return text


@component
def echo(text: str) -> str:
    return f"got {text}"


@component
def write_text(text: str, out: Output[Dataset]):
    with open(out.path, "w") as fh:
        fh.write(text)


@component
def read_text(data: Input[Dataset]) -> str:
    with open(data.path) as fh:
        return fh.read()


@component
def fail_now(text: str) -> str:
    from conveyor.dsl import PermanentError

    raise PermanentError(f"failing on purpose: {text}")


@component
def clean_up(message: str = "upstream produced nothing") -> str:
    return f"cleaned: {message}"


@dsl.pipeline(name="e2e-one-of")
def one_of_parameter(heads: bool = False) -> str:
    """With heads=false the If branch is skipped and the Else branch's value reaches the consumer."""
    flip = coin(heads=heads)
    with dsl.If(flip.output == "heads"):
        won = say(text="won")
    with dsl.Else():
        lost = say(text="lost")
    return echo(text=dsl.OneOf(won.output, lost.output)).output


@dsl.pipeline(name="e2e-one-of-artifact")
def one_of_artifact(heads: bool = False) -> str:
    flip = coin(heads=heads)
    with dsl.If(flip.output == "heads"):
        a = write_text(text="dataset-a")
    with dsl.Else():
        b = write_text(text="dataset-b")
    return read_text(data=dsl.OneOf(a.outputs["out"], b.outputs["out"])).output


@dsl.pipeline(name="e2e-ignore-upstream-failure")
def ignore_upstream_failure(text: str = "boom") -> str:
    """fail-now fails; clean-up still runs, and gets its input's default instead of the missing output."""
    up = fail_now(text=text)
    return clean_up(message=up.output).ignore_upstream_failure().output


# pipeline -> (arguments, run status, pipeline outputs, task statuses): what a laptop run gives
# (test_kfp_branch_parity) and what the cluster run must record (test_e2e_kfp_branches)
EXPECTED = {
    "one_of_parameter": ({"heads": False}, "succeeded", {"Output": "got lost"},
                         {"coin": "succeeded", "say": "skipped", "say-2": "succeeded", "echo": "succeeded"}),
    "one_of_artifact": ({"heads": False}, "succeeded", {"Output": "dataset-b"},
                        {"coin": "succeeded", "write-text": "skipped", "write-text-2": "succeeded",
                         "read-text": "succeeded"}),
    "ignore_upstream_failure": ({}, "failed", {"Output": "cleaned: upstream produced nothing"},
                                {"fail-now": "failed", "clean-up": "succeeded"}),
}
