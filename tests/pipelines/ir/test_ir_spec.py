import json

import pytest
from ir_builders import CONSUME, PRODUCE, comp, pipeline, task
from pydantic import ValidationError

from conveyor.ir import (
    All,
    Comparison,
    ConditionGroup,
    Constant,
    ExitHandlerGroup,
    LoopItem,
    Not,
    ParallelForGroup,
    PipelineParam,
    PipelineSpec,
    Resources,
    RetryPolicy,
    TaskFinalStatus,
    TaskOutput,
    Toleration,
)


def rich_spec() -> PipelineSpec:
    cond = All(
        items=(
            Comparison(left=TaskOutput(task="a", output="Output"), op=">", right=Constant(value=1)),
            Not(item=Comparison(left=PipelineParam(name="n"), op="==", right=Constant(value=2))),
        )
    )
    return pipeline(
        inputs=[],
        components=[PRODUCE, CONSUME],
        tasks=[
            task(
                "a",
                "produce",
                resources=Resources(cpu_request=0.5, memory_limit=2**30),
                retry=RetryPolicy(num_retries=2),
                tolerations=(Toleration(key="gpu", operator="Exists"),),
            ),
            task("b", "consume", arguments={"x": LoopItem(loop_id="loop")}, group="loop", env={"A": "1"}),
            task("c", "consume", arguments={"x": TaskOutput(task="a", output="Output")}, group="if"),
        ],
        groups=[
            ParallelForGroup(id="loop", items=Constant(value=[1, 2]), parallelism=2),
            ConditionGroup(id="if", condition=cond),
            ExitHandlerGroup(id="exit", exit_task="a"),
        ],
    )


def test_json_round_trip_preserves_every_node():
    spec = rich_spec()
    text = spec.to_json()
    again = PipelineSpec.from_json(text)
    assert again == spec
    assert PipelineSpec.from_dict(json.loads(text)) == spec
    assert isinstance(again.groups["if"].condition.items[1], Not)
    assert isinstance(again.tasks["b"].arguments["x"], LoopItem)


def test_digest_is_stable_and_sensitive():
    assert rich_spec().digest() == rich_spec().digest()
    changed = rich_spec().model_copy(update={"description": "other"})
    assert changed.digest() != rich_spec().digest()


def test_models_are_frozen_and_reject_unknown_keys():
    spec = rich_spec()
    with pytest.raises(ValidationError):
        spec.name = "x"
    data = spec.to_dict()
    data["tasks"]["a"]["typo"] = 1
    with pytest.raises(ValidationError):
        PipelineSpec.from_dict(data)


def test_unknown_argument_kind_is_rejected():
    data = rich_spec().to_dict()
    data["tasks"]["c"]["arguments"]["x"] = {"kind": "nope"}
    with pytest.raises(ValidationError):
        PipelineSpec.from_dict(data)


def test_constant_must_be_json():
    with pytest.raises(ValidationError, match="not JSON"):
        Constant(value={1, 2})
    assert Constant(value={"a": [1, None]}).value == {"a": [1, None]}


def test_identity_digest_covers_source_deps_image_packages_version():
    base = comp("c")
    digests = {
        base.identity_digest(),
        base.model_copy(update={"base_image": "python:3.12"}).identity_digest(),
        base.model_copy(update={"packages_to_install": ("pandas",)}).identity_digest(),
        base.model_copy(update={"cache_version": "2"}).identity_digest(),
        base.model_copy(
            update={"implementation": base.implementation.model_copy(update={"deps_digest": "x"})}
        ).identity_digest(),
        base.model_copy(
            update={"implementation": base.implementation.model_copy(update={"source_digest": "x"})}
        ).identity_digest(),
    }
    assert len(digests) == 6
    # The name and TTL are not part of what runs, so they do not change identity.
    assert base.model_copy(update={"cache_ttl_seconds": 5}).identity_digest() == base.identity_digest()


def test_component_lookup_helpers():
    assert CONSUME.input("x").required
    assert CONSUME.input("nope") is None
    assert CONSUME.output("Output").kind == "parameter"
    assert rich_spec().component_of("b").name == "consume"
    assert TaskFinalStatus().kind == "task_final_status"
