"""Scale (manifest size independent of item count, template dedupe), cache injection, cron, errors."""

from __future__ import annotations

import ast
import json
from dataclasses import replace
from pathlib import Path

import pytest

from conveyor import dsl
from conveyor.compiler.argo import CompileError, compile_cron_workflow, compile_workflow
from conveyor.compiler.argo.conditions import when_expression
from conveyor.ir import Comparison, Constant, PipelineParam
from tests.pipelines.compiler.feature_pipelines import FEATURES, add, shout
from tests.pipelines.compiler.helpers import args_of, container_templates, dag_tasks, flag_values, templates


def _loop_pipeline(items):
    @dsl.pipeline(name="big-loop")
    def big_loop():
        with dsl.ParallelFor(items, parallelism=8) as item:
            shout(text=item)

    return big_loop.pipeline_spec


def _size(manifest) -> int:
    return len(json.dumps(manifest))


def test_manifest_size_does_not_grow_with_literal_items(profile, options, argo_schema):
    small = compile_workflow(_loop_pipeline([f"s{i}" for i in range(1_000)]), profile, options)
    big = compile_workflow(_loop_pipeline([f"s{i}" for i in range(10_000)]), profile, options)
    argo_schema.check(big)
    assert abs(_size(big) - _size(small)) < 16 and _size(big) < 64 * 1024
    it = dag_tasks(big, "for-loop-1")["for-loop-1-iter"]
    assert it["withSequence"] == {"start": "0", "count": "10000"}  # indices; the items stay in the spec
    shout_tmpl = container_templates(big)["shout"]["container"]
    assert flag_values(shout_tmpl, "--loop-index") == ["for-loop-1={{inputs.parameters.for-loop-1-index}}"]
    assert flag_values(shout_tmpl, "--input") == []
    ranged = compile_workflow(_loop_pipeline(list(range(10_000))), profile, options)
    assert dag_tasks(ranged, "for-loop-1")["for-loop-1-iter"]["withSequence"] == {
        "start": "0",
        "count": "10000",
    }
    assert args_of(dag_tasks(ranged, "for-loop-1")["for-loop-1-iter"]) == {"for-loop-1-item": "{{item}}"}


def test_one_template_serves_a_thousand_task_chain(profile, options):
    @dsl.pipeline(name="chain")
    def chain():
        prev = add(a=0)
        for _ in range(999):
            prev = add(a=prev.output)

    wf = compile_workflow(chain.pipeline_spec, profile, options)
    assert len(dag_tasks(wf, "chain")) == 1000
    assert len(container_templates(wf)) == 1  # constants and upstream outputs are both just argument values


def test_partially_cached_run_submits_only_the_rest(profile, options, argo_schema):
    spec = FEATURES["basic_dag"].pipeline_spec
    cached = {
        "make-data": {"out": '{"uri": "s3://b/a/out", "digest": "sha256:ab"}'},
        "stats": {"label": "ok"},
    }
    wf = compile_workflow(spec, profile, replace(options, cached=cached))
    argo_schema.check(wf)
    root = dag_tasks(wf, "basic-dag")
    assert set(root) == {"train", "shout"}
    assert args_of(root["train"])["data"] == cached["make-data"]["out"]
    assert "dependencies" not in root["train"]
    assert args_of(root["shout"])["text"] == "ok" and root["shout"]["dependencies"] == ["train"]
    everything = {
        t: {"Output": "1", "out": "{}", "model": "{}", "label": "x", "total": "1"} for t in spec.tasks
    }
    with pytest.raises(CompileError, match="every task is cached"):
        compile_workflow(spec, profile, replace(options, cached=everything))
    with pytest.raises(CompileError, match="no recorded output 'out'"):
        compile_workflow(spec, profile, replace(options, cached={"make-data": {}}))


def test_cached_task_inside_a_loop_is_refused_while_a_task_left_reads_it(profile, options):
    with pytest.raises(CompileError, match="cached task 'train' is inside ParallelFor .* 'pick-best' still reads it"):
        compile_workflow(
            FEATURES["parallel_for"].pipeline_spec,
            profile,
            replace(options, cached={"train": {"Output": "0.5"}}),
        )


def test_a_cached_loop_nothing_reads_drops_out_whole(profile, options):
    """What a re-submit whose loop resolved item by item needs (conveyor.launcher.resolve)."""
    manifest = compile_workflow(FEATURES["parallel_for"].pipeline_spec, profile,
                                replace(options, cached={"shout": {}}))
    assert "shout" not in {t["name"] for t in manifest["spec"]["templates"] if "container" in t}
    assert "train" in {t["name"] for t in manifest["spec"]["templates"] if "container" in t}


def test_unknown_accelerator_names_the_pools(profile, options):
    @dsl.pipeline(name="tpu")
    def tpu():
        add(a=1).set_accelerator_type("TPU_V4").set_accelerator_limit(1)

    with pytest.raises(CompileError, match=r"accelerator 'TPU_V4'.*\['nvidia-a10g'\]"):
        compile_workflow(tpu.pipeline_spec, profile, options)


def test_bad_secret_reference_and_unknown_argument(profile, options):
    @dsl.pipeline(name="bad-secret")
    def bad_secret():
        add(a=1).set_env_variable("TOKEN", "secret:not a ref")

    with pytest.raises(CompileError, match="TOKEN.*secret-name/key"):
        compile_workflow(bad_secret.pipeline_spec, profile, options)
    with pytest.raises(CompileError, match=r"unknown pipeline parameters \['nope'\]"):
        compile_workflow(
            FEATURES["basic_dag"].pipeline_spec, profile, replace(options, arguments={"nope": "1"})
        )
    wf = compile_workflow(
        FEATURES["basic_dag"].pipeline_spec, profile, replace(options, arguments={"rows": "7"})
    )
    assert wf["spec"]["arguments"]["parameters"] == [{"name": "rows", "value": "7"}]


def test_condition_type_mismatch_and_unquotable_strings_are_compile_errors():
    def text(arg):
        return "{{workflow.parameters." + arg.name + "}}"

    def types(arg):
        return {"n": "int", "s": "str"}[arg.name]

    with pytest.raises(CompileError, match="cannot compare number with str"):
        when_expression(
            Comparison(left=PipelineParam(name="n"), op="==", right=Constant(value="x")), text, types, "c"
        )
    with pytest.raises(CompileError, match="both quote kinds"):
        when_expression(
            Comparison(left=PipelineParam(name="s"), op="==", right=Constant(value="a'b\"c")),
            text,
            types,
            "c",
        )
    assert (
        when_expression(
            Comparison(left=PipelineParam(name="s"), op="!=", right=Constant(value="it's")), text, types, "c"
        )
        == "'{{workflow.parameters.s}}' != \"it's\""
    )
    assert when_expression(
        Comparison(left=PipelineParam(name="n"), op=">=", right=Constant(value=3)), text, types, "c"
    ) == ("{{workflow.parameters.n}} >= 3")


def test_cron_workflow_is_schema_valid_and_per_run(profile, argo_schema):
    cron = compile_cron_workflow(FEATURES["parallel_for"].pipeline_spec, "@daily", profile)
    argo_schema.check(cron)
    assert cron["kind"] == "CronWorkflow" and cron["spec"]["schedules"] == ["@daily"]
    shout = templates(cron)["shout"]["container"]
    assert flag_values(shout, "--run-id") == ["{{workflow.name}}"]
    assert "conveyor.dev/run-id" not in cron["metadata"]["labels"]
    for bad in ("* * *", "0 3 * * * *", "every day"):
        with pytest.raises(CompileError, match="5-field cron"):
            compile_cron_workflow(FEATURES["basic_dag"].pipeline_spec, bad, profile)


def test_schema_check_is_not_vacuous(profile, options, argo_schema):
    wf = compile_workflow(FEATURES["retries_timeouts"].pipeline_spec, profile, options)
    broken = json.loads(json.dumps(wf))
    broken["spec"]["templates"][1]["retryStrategy"]["limit"] = 3  # IntOrString is a string in v4.1.2
    assert argo_schema.errors(broken)


def test_compiler_reads_only_the_ir():
    root = Path(__import__("conveyor.compiler.argo", fromlist=["x"]).__file__).parent
    modules = set()
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("conveyor"):
                modules.add(node.module)
            elif isinstance(node, ast.Import):
                modules.update(a.name for a in node.names if a.name.startswith("conveyor."))
    imported = {m.split(".")[1] for m in modules}
    # `profile`: the typed Profile the compiler places tasks with (the platform contract; a leaf
    # module that imports nothing of conveyor).
    assert imported <= {"ir", "compiler", "runtime", "profile"}, imported
    assert not [line for line in Path(__import__("conveyor.profile").profile.__file__).read_text().splitlines()
                if line.startswith(("from conveyor", "import conveyor"))]
    # From the runtime only the task protocol's codec (text_form, the spec codec): one definition,
    # shared with the pod that decodes what the compiler encodes.
    assert {m for m in modules if m.startswith("conveyor.runtime")} <= {"conveyor.runtime.protocol.codec"}, modules
