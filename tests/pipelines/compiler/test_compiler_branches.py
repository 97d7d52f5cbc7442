"""dsl.OneOf and .ignore_upstream_failure() on Argo: the manifest's structure, Argo's own lint and schema,
and the pod side of the contract (``--omitted``, a OneOf input's type).

What the expression tags evaluate to on the real controller is checked in
``test_argo_branch_expressions.py`` (Argo's own template code) and tests/cluster/test_e2e_kfp_branches.py.
"""

from __future__ import annotations

import pytest

from conveyor import dsl
from conveyor.compiler.argo import CompileError, CompileOptions, compile_workflow, to_yaml
from conveyor.runtime.loader import find_pipeline
from conveyor.runtime.pod import parse_args
from conveyor.runtime.pod.inputs import InputResolver
from tests.cluster import e2e_branch_pipelines as e2e
from tests.pipelines.compiler.helpers import args_of, container_templates, dag_tasks, flag_values, templates
from tests.pipelines.compiler.test_argo_lint import argo_cli, lint  # noqa: F401 - the fixture
from tests.pipelines.kfp.compat import fixture

IMAGE = "conveyor.local/conveyor-task:test"


def compiled(pipeline, argo_schema, **options) -> dict:
    manifest = compile_workflow(pipeline.pipeline_spec, options=CompileOptions(image=IMAGE, run_id="r-1", **options))
    argo_schema.check(manifest)
    return manifest


@dsl.component
def flip(heads: bool) -> str:
    return "heads" if heads else "tails"


@dsl.component
def word(text: str) -> str:
    return text


@dsl.component
def count(n: int) -> int:
    return n


@dsl.component
def fail(text: str) -> str:
    raise RuntimeError(text)


@dsl.component
def cleanup(message: str = "upstream produced nothing") -> str:
    return f"cleaned: {message}"


@dsl.pipeline
def nested_one_of(heads: bool = False, deep: bool = True):
    """Three branches, two of them one If deeper, and the consumer inside a condition of its own."""
    coin = flip(heads=heads)
    with dsl.If(coin.output == "heads"):
        a = word(text="a")
    with dsl.Else():
        with dsl.If(deep == True):  # noqa: E712 - a pipeline condition, not a Python comparison
            b = word(text="b")
        with dsl.Else():
            c = word(text="c")
    with dsl.If(coin.output != "never"):
        word(text=dsl.OneOf(a.output, b.output, c.output))


@dsl.pipeline
def one_of_in_ignore_task(heads: bool = True) -> str:
    coin = flip(heads=heads)
    with dsl.If(coin.output == "heads"):
        a = fail(text="a")
    with dsl.Else():
        b = word(text="b")
    return cleanup(message=dsl.OneOf(a.output, b.output)).ignore_upstream_failure().output


@dsl.pipeline
def ignore_formatted(text: str = "boom"):
    up = fail(text=text)
    cleanup(message=f"saw {up.output} and {text}").ignore_upstream_failure()


@dsl.pipeline
def ignore_inside_a_condition(text: str = "boom"):
    up = fail(text=text)
    with dsl.If(text == "boom"):
        cleanup(message=up.output).ignore_upstream_failure()


@dsl.pipeline
def ignore_with_upstream_cpu(text: str = "boom"):
    up = fail(text=text)
    cleanup(message="x").after(up).set_cpu_limit(up.output).ignore_upstream_failure()


def test_one_of_reads_the_branch_that_succeeded(argo_schema):
    pipeline = find_pipeline(fixture("one_of.py"), "one_of_pipeline")
    manifest = compiled(pipeline, argo_schema)
    root = dag_tasks(manifest, manifest["spec"]["entrypoint"])
    read_task = root["read"]
    assert read_task["depends"] == ("(condition-1.Succeeded || condition-1.Skipped || condition-1.Daemoned) && "
                                    "(condition-2.Succeeded || condition-2.Skipped || condition-2.Daemoned)")
    # read may be skipped by its guard; announce reads it, so that skip must propagate, as it does locally
    assert "(read.Succeeded || read.Daemoned)" in root["announce"]["depends"]
    value = args_of(read_task)["data"]  # an artifact OneOf travels as its JSON reference, like any output
    assert value.startswith("{{=") and value.endswith("}}")
    assert value.index('"condition-1"') < value.index('"condition-2"')  # branch order, as locally
    assert '"write--status") == "Succeeded"' in value and '"write-2-out")' in value
    assert read_task["when"].startswith("{{=") and "||" in read_task["when"]  # no branch ran: skipped
    exports = {p["name"]: p["valueFrom"] for p in templates(manifest)["condition-2"]["outputs"]["parameters"]}
    assert exports["write-2--status"] == {"expression": 'tasks["write-2"].status', "default": ""}
    assert exports["write-2-out"] == {"parameter": "{{tasks.write-2.outputs.parameters.out}}", "default": ""}
    assert args_of(root["announce"])["text"] == "{{tasks.read.outputs.parameters.Output}}"


def test_nested_branches_export_through_each_level_and_the_choice_is_passed_down(argo_schema):
    manifest = compiled(nested_one_of, argo_schema)
    names = templates(manifest)
    inner = {p["name"]: p["valueFrom"] for p in names["condition-3"]["outputs"]["parameters"]}
    assert inner["word-2--status"]["expression"] == 'tasks["word-2"].status'
    outer = {p["name"]: p["valueFrom"] for p in names["condition-2"]["outputs"]["parameters"]}
    assert outer["word-2--status"] == {"parameter": "{{tasks.condition-3.outputs.parameters.word-2--status}}",
                                       "default": ""}  # condition-3 skipped: the Else's DAG still resolves
    root = dag_tasks(manifest, manifest["spec"]["entrypoint"])
    guard = root["condition-5"]
    value = next(v for k, v in args_of(guard).items() if k.endswith("-oneof-" + k.split("-oneof-")[-1])
                 and not k.endswith("-ran"))
    assert value.startswith("{{=") and '"condition-1"' in value and '"condition-2"' in value
    picked = dag_tasks(manifest, "condition-5")["word-4"]
    assert args_of(picked)["text"].startswith("{{inputs.parameters.word-Output-oneof-")
    assert picked["when"].startswith("{{inputs.parameters.word-Output-oneof-") and picked["when"].endswith("-ran}}")


def test_a_cached_branch_is_the_literal_value(argo_schema):
    pipeline = find_pipeline(fixture("one_of.py"), "one_of_pipeline")
    manifest = compiled(pipeline, argo_schema, cached={"flip": {"Output": "heads"}, "on-heads": {"Output": "won"}})
    root = dag_tasks(manifest, manifest["spec"]["entrypoint"])
    assert args_of(root["announce"])["result"] == "won"
    assert root["announce"]["when"] == "{{=(true)}}"
    with pytest.raises(CompileError, match="cached task 'on-tails' has no recorded output 'Output'"):
        compiled(pipeline, argo_schema, cached={"on-tails": {}})


def test_ignore_upstream_failure_input_falls_back_when_the_upstream_did_not_succeed(argo_schema):
    pipeline = find_pipeline(fixture("ignore_upstream_failure.py"), "ignore_failure_pipeline")
    manifest = compiled(pipeline, argo_schema)
    task = dag_tasks(manifest, manifest["spec"]["entrypoint"])["cleanup"]
    assert "dependencies" not in task and "fail-op.Failed" in task["depends"]
    args = args_of(task)
    assert args["message"] == ('{{=(tasks["fail-op"].status == "Succeeded") ? '
                               'get(get(get(tasks["fail-op"], \'outputs\'), \'parameters\'), "Output") : \'\'}}')
    assert args["message--omitted"] == '{{=!((tasks["fail-op"].status == "Succeeded"))}}'
    container = next(t for n, t in container_templates(manifest).items() if n.startswith("cleanup"))["container"]
    assert flag_values(container, "--omitted") == ["message={{inputs.parameters.message--omitted}}"]


def test_ignore_upstream_failure_over_a_one_of_and_a_formatted_string(argo_schema):
    manifest = compiled(one_of_in_ignore_task, argo_schema)
    root = dag_tasks(manifest, manifest["spec"]["entrypoint"])
    # Argo refuses a DAG mixing depends and dependencies: the other edges keep Argo's dependencies meaning
    assert root["condition-1"]["depends"] == "(flip.Succeeded || flip.Skipped || flip.Daemoned)"
    assert not any("dependencies" in t for t in root.values())
    task = root["cleanup"]
    assert "when" not in task  # no branch ran: the default, not a skip
    assert '"fail--status") == "Succeeded"' in args_of(task)["message--omitted"]
    manifest = compiled(ignore_formatted, argo_schema)
    args = args_of(dag_tasks(manifest, manifest["spec"]["entrypoint"])["cleanup"])
    assert args["message--part1"].startswith('{{=(tasks["fail"].status')
    assert args["message--part3"] == "{{workflow.parameters.text}}"
    assert args["message--omitted"] == '{{=!((tasks["fail"].status == "Succeeded") && (true))}}'


@dsl.pipeline
def ignore_after_a_chain(text: str = "boom"):
    up = fail(text=text)
    middle = word(text=up.output)  # omitted when up fails
    cleanup(message=middle.output).ignore_upstream_failure()
    word(text="independent")


def test_a_dag_with_an_ignoring_task_is_judged_by_its_upstreams_too(argo_schema):
    """Argo judges a DAG by its leaves: without ``target`` the failed upstream of a task that ran anyway
    would not count and the run would end Succeeded (seen on the real controller); kfp fails it."""
    def target(pipeline):
        manifest = compiled(pipeline, argo_schema)
        return templates(manifest)[manifest["spec"]["entrypoint"]]["dag"].get("target")

    assert target(e2e.ignore_upstream_failure) == "fail-now clean-up"
    assert target(one_of_in_ignore_task) == "condition-1 condition-2 cleanup"
    # an omitted task inherits its failed parent's phase in Argo's verdict, so naming it keeps the failure
    assert target(ignore_after_a_chain) == "word-2 word cleanup"
    assert target(e2e.one_of_parameter) is None  # no ignoring task: Argo's default, the leaves


@pytest.mark.parametrize(("pipeline", "words"), [
    (ignore_inside_a_condition, ["task 'cleanup'", "same loop or condition", "move the task next to its upstream"]),
    (ignore_with_upstream_cpu, ["task 'cleanup'", "set_cpu_limit()", "literal or a pipeline parameter"]),
])
def test_what_cannot_fall_back_on_argo_is_refused_by_name(pipeline, words):
    with pytest.raises(CompileError) as err:
        compile_workflow(pipeline.pipeline_spec, options=CompileOptions(image=IMAGE))
    assert all(w in str(err.value) for w in words), str(err.value)


def test_every_branch_construct_passes_argo_lint(argo_cli, argo_schema, tmp_path):  # noqa: F811
    pipelines = [find_pipeline(fixture("one_of.py"), "one_of_pipeline"),
                 find_pipeline(fixture("ignore_upstream_failure.py"), "ignore_failure_pipeline"),
                 nested_one_of, one_of_in_ignore_task, ignore_formatted,
                 e2e.one_of_parameter, e2e.one_of_artifact, e2e.ignore_upstream_failure]  # the cluster scenarios
    for i, pipeline in enumerate(pipelines):
        (tmp_path / f"p{i}.yaml").write_text(to_yaml(compiled(pipeline, argo_schema)))
    cached = compiled(pipelines[0], argo_schema, cached={"flip": {"Output": "heads"}, "on-heads": {"Output": "won"}})
    (tmp_path / "cached.yaml").write_text(to_yaml(cached))
    later = compiled(pipelines[0], argo_schema, cached={"on-tails": {"Output": 'said "}} {{x}}"'}})
    (tmp_path / "cached-later.yaml").write_text(to_yaml(later))
    assert lint(argo_cli, sorted(tmp_path.glob("*.yaml"))) == {}


def test_the_pod_leaves_an_omitted_input_to_its_default():
    spec = find_pipeline(fixture("ignore_upstream_failure.py"), "ignore_failure_pipeline").pipeline_spec
    base = ["--spec", "env:X", "--task", "cleanup", "--run-id", "r", "--outputs-dir", "/tmp/o", "--input", "message="]
    assert InputResolver(spec, parse_args([*base, "--omitted", "message=true"]), None).resolve() == ({}, {})
    ran = InputResolver(spec, parse_args([*base[:-1], "message=hi", "--omitted", "message=false"]), None)
    assert ran.resolve() == ({"message": "hi"}, {})
    with pytest.raises(Exception, match="expected NAME=true or NAME=false"):
        parse_args([*base, "--omitted", "message=yes"])


def test_the_pod_types_a_one_of_input_by_its_producers_output():
    @dsl.pipeline
    def counted(heads: bool = True) -> int:
        coin = flip(heads=heads)
        with dsl.If(coin.output == "heads"):
            a = count(n=1)
        with dsl.Else():
            b = count(n=2)
        return count(n=dsl.OneOf(a.output, b.output)).output

    spec = counted.pipeline_spec
    consumer = next(t for t, s in spec.tasks.items() if s.arguments.get("n") and s.arguments["n"].kind == "one_of")
    argv = ["--spec", "env:X", "--task", consumer, "--run-id", "r", "--outputs-dir", "/tmp/o", "--input", "n=2"]
    assert InputResolver(spec, parse_args(argv), None).resolve() == ({"n": 2}, {})
