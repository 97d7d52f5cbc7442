"""The compiled OneOf / ignore_upstream_failure expression tags, evaluated by Argo v4.0.5's own template code.

``argo_expr/main.go`` runs ``util/template.ReplaceStrict`` with the ``tasks`` prefix strict, exactly as
the controller resolves a DAG task's arguments and ``when`` (``resolveDependencyReferences``), over a
scope shaped the way ``buildLocalScopeFromTask`` shapes it: every ancestor has ``id`` and ``status``; a
*skipped* ancestor's declared outputs are ``""``; a *failed* one has none. It is built from the Go
module cache the argo CLI build filled (``tests.cluster.argo_build``); the tests skip when that cannot
be done, and fail instead under ``CONVEYOR_REQUIRE_ARGO_LINT=1``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conveyor.compiler.argo import CompileOptions, compile_workflow
from conveyor.runtime.loader import find_pipeline
from tests.pipelines.compiler.helpers import args_of, dag_tasks, templates
from tests.pipelines.compiler.test_compiler_branches import one_of_in_ignore_task
from tests.pipelines.kfp.compat import fixture

# The module's first test pays a cold build (Go or debootstrap: minutes on 2 cores, longer beside CI's
# background prebuild, whose lock it may wait on); the suite's 300 s per-test limit is for tests, not builds.
pytestmark = pytest.mark.timeout(1800)

SOURCE = Path(__file__).with_name("argo_expr")


@pytest.fixture(scope="module")
def argo_eval() -> Path:
    from tests.cluster.argo_build import BuildError, build, cache_root, go_env

    reason = None
    if shutil.which("go") is None:
        reason = "Go is not installed"
    else:
        try:
            build()  # fills the module cache with Argo v4.0.5 and its dependencies
            out = cache_root() / "argo-expr-v4.0.5"
            out.mkdir(parents=True, exist_ok=True)
            for name in ("main.go", "go.mod"):
                shutil.copy(SOURCE / name, out / name)
            env = {**go_env(), "GOFLAGS": "-mod=mod", "GOPROXY": "off"}
            proc = subprocess.run(["go", "build", "-o", "argo-expr", "."], cwd=out, env=env,
                                  capture_output=True, text=True, timeout=600)
            if proc.returncode == 0:
                return out / "argo-expr"
            reason = f"go build failed: {proc.stderr[-300:]}"
        except BuildError as exc:
            reason = f"the argo build failed: {exc}"
    if os.environ.get("CONVEYOR_REQUIRE_ARGO_LINT") == "1":
        pytest.fail(reason)
    pytest.skip(f"Argo's expression evaluator: {reason}")


def evaluate(binary: Path, text: str, scope: dict[str, str], expression: bool = False) -> dict:
    proc = subprocess.run([str(binary)], input=json.dumps({"text": text, "scope": scope, "expression": expression}),
                          capture_output=True, text=True, timeout=60, check=True)
    return json.loads(proc.stdout)


def node(name: str, status: str, outputs: dict[str, str] | None = None, declared: list[str] = ()) -> dict[str, str]:
    """One ancestor in the controller's scope: ``outputs`` when it has them, else the declared ones as ""
    if it was skipped (the controller's rule), else none (failed)."""
    scope = {f"tasks.{name}.id": f"{name}-id", f"tasks.{name}.status": status}
    if outputs is None and status in ("Skipped", "Omitted"):
        outputs = dict.fromkeys(declared, "")
    for key, value in (outputs or {}).items():
        scope[f"tasks.{name}.outputs.parameters.{key}"] = value
    return scope


def declared(manifest: dict, template: str) -> list[str]:
    return [p["name"] for p in templates(manifest)[template]["outputs"]["parameters"]]


@pytest.fixture(scope="module")
def one_of() -> dict:
    spec = find_pipeline(fixture("one_of.py"), "one_of_pipeline").pipeline_spec
    return compile_workflow(spec, options=CompileOptions(image="x:1", run_id="r-1"))


def test_the_else_branch_that_ran_is_picked_parameter_and_artifact(argo_eval, one_of):
    root = dag_tasks(one_of, one_of["spec"]["entrypoint"])
    ref = json.dumps({"uri": "s3://bucket/runs/r-1/write-2/out", "digest": "sha256:ab"})
    text = 'lost "for real" {{not a tag}} é'
    scope = {**node("condition-1", "Skipped", declared=declared(one_of, "condition-1")),
             **node("condition-2", "Succeeded", {"on-tails--status": "Succeeded", "on-tails-Output": text,
                                                 "write-2--status": "Succeeded", "write-2-out": ref})}
    assert evaluate(argo_eval, args_of(root["announce"])["result"], scope) == {"value": text}
    assert evaluate(argo_eval, args_of(root["read"])["data"], scope) == {"value": ref}
    assert evaluate(argo_eval, root["announce"]["when"], scope) == {"value": "true"}


def test_no_branch_ran_skips_the_consumer(argo_eval, one_of):
    root = dag_tasks(one_of, one_of["spec"]["entrypoint"])
    scope = {**node("condition-1", "Skipped", declared=declared(one_of, "condition-1")),
             **node("condition-2", "Skipped", declared=declared(one_of, "condition-2"))}
    assert evaluate(argo_eval, root["announce"]["when"], scope) == {"value": "false"}
    assert evaluate(argo_eval, args_of(root["announce"])["result"], scope) == {"value": ""}


def test_a_branch_exports_its_producers_phase(argo_eval, one_of):
    exports = {p["name"]: p["valueFrom"] for p in templates(one_of)["condition-2"]["outputs"]["parameters"]}
    scope = node("write-2", "Succeeded", {"out": "{}"})
    assert evaluate(argo_eval, exports["write-2--status"]["expression"], scope, expression=True) == {
        "value": "Succeeded"}


def test_ignore_upstream_failure_falls_back_where_a_plain_reference_would_hang(argo_eval):
    spec = find_pipeline(fixture("ignore_upstream_failure.py"), "ignore_failure_pipeline").pipeline_spec
    manifest = compile_workflow(spec, options=CompileOptions(image="x:1", run_id="r-1"))
    args = args_of(dag_tasks(manifest, manifest["spec"]["entrypoint"])["cleanup"])
    failed = node("fail-op", "Failed")
    plain = evaluate(argo_eval, "{{tasks.fail-op.outputs.parameters.Output}}", failed)
    assert plain["missing"] is True  # what the controller would requeue for ever
    assert evaluate(argo_eval, args["message"], failed) == {"value": ""}
    assert evaluate(argo_eval, args["message--omitted"], failed) == {"value": "true"}
    ok = node("fail-op", "Succeeded", {"Output": "hi"})
    assert evaluate(argo_eval, args["message"], ok) == {"value": "hi"}
    assert evaluate(argo_eval, args["message--omitted"], ok) == {"value": "false"}


def test_ignore_upstream_failure_over_a_one_of_whose_branch_failed(argo_eval):
    manifest = compile_workflow(one_of_in_ignore_task.pipeline_spec, options=CompileOptions(image="x:1"))
    args = args_of(dag_tasks(manifest, manifest["spec"]["entrypoint"])["cleanup"])
    failed = {**node("condition-1", "Failed"), **node("condition-2", "Skipped", declared=declared(manifest, "condition-2"))}
    assert evaluate(argo_eval, args["message"], failed) == {"value": ""}
    assert evaluate(argo_eval, args["message--omitted"], failed) == {"value": "true"}
    ran = {**node("condition-1", "Skipped", declared=declared(manifest, "condition-1")),
           **node("condition-2", "Succeeded", {"word--status": "Succeeded", "word-Output": "b"})}
    assert evaluate(argo_eval, args["message"], ran) == {"value": "b"}
    assert evaluate(argo_eval, args["message--omitted"], ran) == {"value": "false"}


def test_a_cached_later_branch_is_a_literal_that_survives_quoting(argo_eval):
    spec = find_pipeline(fixture("one_of.py"), "one_of_pipeline").pipeline_spec
    text = 'it said "}} {{x}}" \\ and é'
    manifest = compile_workflow(spec, options=CompileOptions(image="x:1", cached={"on-tails": {"Output": text}}))
    root = dag_tasks(manifest, manifest["spec"]["entrypoint"])
    scope = node("condition-1", "Skipped", declared=declared(manifest, "condition-1"))
    assert evaluate(argo_eval, args_of(root["announce"])["result"], scope) == {"value": text}
    assert evaluate(argo_eval, root["announce"]["when"], scope) == {"value": "true"}
