from example_loader import load_example

from conveyor.dsl import Pipeline
from conveyor.ir import (
    Collected,
    ConditionGroup,
    ExitHandlerGroup,
    LoopItem,
    ParallelForGroup,
    PipelineParam,
    PipelineSpec,
    TaskOutput,
    topological_order,
)


def test_training_pipeline_shape():
    module = load_example("training.py")
    spec = module.training_pipeline.pipeline_spec
    assert set(spec.tasks) == {
        "notify",
        "ingest",
        "validate",
        "preprocess",
        "train",
        "pick-best",
        "evaluate",
        "register",
    }
    exit_group = spec.groups["exit-handler-1"]
    assert isinstance(exit_group, ExitHandlerGroup) and exit_group.exit_task == "notify"
    loop = spec.groups["for-loop-1"]
    assert isinstance(loop, ParallelForGroup) and loop.parallelism == 2 and loop.parent == "exit-handler-1"
    assert loop.items.value == module.HYPERPARAMETERS
    assert spec.tasks["train"].arguments["params"] == LoopItem(loop_id="for-loop-1")
    assert spec.tasks["pick-best"].arguments == {
        "scores": Collected(task="train", output="Output"),
        "candidates": Collected(task="train", output="model"),
    }
    gate = spec.groups["condition-1"]
    assert isinstance(gate, ConditionGroup)
    assert gate.condition.left == TaskOutput(task="evaluate", output="accuracy") and gate.condition.op == ">"
    assert gate.condition.right == PipelineParam(name="accuracy_threshold")
    assert spec.tasks["register"].group == "condition-1" and spec.tasks["register"].caching  # same model, same registry: no re-registration
    assert spec.input("registry_root").default == ".conveyor/registry"
    assert spec.tasks["train"].resources.memory_limit == 2**30
    assert spec.tasks["preprocess"].after == ("validate",)
    assert topological_order(spec)[-1] == "notify"
    for name in ("ingest", "preprocess", "train", "evaluate"):
        assert "scikit-learn>=1.4" in spec.component_of(name).packages_to_install


def test_segments_pipeline_is_a_dynamic_fan_out():
    spec = load_example("segments.py").segments_pipeline.pipeline_spec
    loop = spec.groups["for-loop-1"]
    assert loop.items == TaskOutput(task="list-segments", output="Output") and loop.parallelism == 2
    assert spec.tasks["train-segment"].arguments["segment"] == LoopItem(loop_id="for-loop-1")
    assert spec.tasks["summarize"].arguments["results"] == Collected(task="train-segment", output="Output")
    assert spec.outputs == {"Output": TaskOutput(task="summarize", output="Output")}


def test_example_specs_round_trip_and_digest_is_reproducible():
    for relative, attr in (("training.py", "training_pipeline"), ("segments.py", "segments_pipeline")):
        pipeline = getattr(load_example(relative), attr)
        spec = pipeline.pipeline_spec
        assert PipelineSpec.from_json(spec.to_json()) == spec
        rebuilt = Pipeline(pipeline.python_func, name=pipeline.name, description=pipeline.description)
        assert rebuilt.pipeline_spec.digest() == spec.digest()
