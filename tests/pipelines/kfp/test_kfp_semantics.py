"""Semantics that must match kfp: formatted strings, NamedTuple returns, OutputPath(bool), OneOf.

Each fixture runs under kfp's own local runner and under conveyor, with only the imports swapped,
and the pipeline outputs must be equal.
"""

from __future__ import annotations

import pytest

from tests.pipelines.kfp.compat import fixture, only_imports_mention_conveyor, run_kfp

CASES = [
    ("formatted_strings.py", "formatted_pipeline", {"name": "Ada"}),
    ("named_tuple_outputs.py", "named_tuple_pipeline", {}),
    ("pythonic_artifacts.py", "pythonic_pipeline", {"rows": 5}),
    ("artifact_leniency.py", "leniency_pipeline", {}),
]


@pytest.mark.parametrize(("name", "pipeline", "arguments"), CASES)
def test_conveyor_matches_kfp(name, pipeline, arguments, run_file, tmp_path):
    pytest.importorskip("kfp")
    path = fixture(name)
    assert only_imports_mention_conveyor(path)
    expected = run_kfp(path, pipeline, tmp_path, arguments)
    result = run_file(path, arguments, name=pipeline)
    assert result.succeeded, result.error
    assert result.outputs == expected


def kfp_compile(path, tmp_path) -> dict:
    """kfp's compiled pipeline IR of the fixture (for what kfp's local runner cannot run)."""
    import yaml

    from tests.pipelines.kfp.compat import compile_with_kfp

    return yaml.safe_load(compile_with_kfp(path, tmp_path).read_text())


@pytest.mark.parametrize(("heads", "expected"), [(True, "won/dataset-a"), (False, "lost/dataset-b")])
def test_one_of_picks_the_branch_that_ran(heads, expected, run_file, tmp_path):
    """kfp's local runner refuses dsl.OneOf ("not yet supported in local execution"); kfp's compiler
    turns it into one selector per branch, and conveyor runs exactly that meaning."""
    pytest.importorskip("kfp")
    path = fixture("one_of.py")
    compiled = kfp_compile(path, tmp_path)
    condition_dag = next(c for n, c in compiled["components"].items() if n.startswith("comp-condition-branches"))
    selectors = condition_dag["dag"]["outputs"]
    params = [p["valueFromOneof"]["parameterSelectors"] for p in selectors["parameters"].values()]
    arts = [a["artifactSelectors"] for a in selectors["artifacts"].values()]
    assert [len(p) for p in params] == [2] and [len(a) for a in arts] == [2]
    spec = __import__("conveyor.runtime.loader", fromlist=["x"]).find_pipeline(path, "one_of_pipeline").pipeline_spec
    assert spec.tasks["read"].arguments["data"].kind == "one_of"
    result = run_file(path, {"heads": heads}, name="one_of_pipeline")
    assert result.succeeded, result.error
    assert result.outputs == {"Output": expected}
    skipped = {t.task for t in result.tasks if t.status == "skipped"}
    assert skipped == ({"on-tails", "write-2"} if heads else {"on-heads", "write"})


def test_collected_artifacts_fan_in_to_a_list_input(run_file, tmp_path):
    """kfp compiles Collected artifacts into an artifact list input (its local runner cannot run
    ParallelFor fan-in); conveyor hands the component every iteration's artifact, in loop order."""
    pytest.importorskip("kfp")
    path = fixture("collected_artifacts.py")
    assert only_imports_mention_conveyor(path)
    compiled = kfp_compile(path, tmp_path)
    merge_inputs = compiled["components"]["comp-merge"]["inputDefinitions"]["artifacts"]["shards"]
    assert merge_inputs["isArtifactList"] is True
    result = run_file(path, name="collected_pipeline")
    assert result.succeeded, result.error
    assert result.outputs == {"Output": "shard-0,shard-1,shard-2"}


def test_an_unset_optional_artifact_of_a_sub_pipeline_is_no_argument(run_file, tmp_path):
    pytest.importorskip("kfp")
    path = fixture("artifact_leniency.py")
    compiled = kfp_compile_named(path, tmp_path, "unset_pipeline")
    outer = compiled["root"]["dag"]["tasks"]["describe-inner"]
    assert "dataset" not in outer.get("inputs", {}).get("artifacts", {})  # kfp passes nothing either
    declared = compiled["components"]["comp-describe-inner"]["inputDefinitions"]["artifacts"]["dataset"]
    assert declared["isOptional"] is True  # so the inner task's optional input is absent: None
    result = run_file(path, {}, name="unset_pipeline")
    assert result.succeeded, result.error
    assert result.outputs == {"unset": "none", "given": "given"}


def kfp_compile_named(path, tmp_path, pipeline: str) -> dict:
    import yaml

    from tests.pipelines.kfp.compat import compile_with_kfp

    return yaml.safe_load(compile_with_kfp(path, tmp_path, pipeline).read_text())
