"""Argo's own validator over what the compiler emits: ``argo lint --offline``, beside the JSON schema.

The schema checks shapes; the real lint runs the controller's validation (template references,
parameter resolution, ``when``/``withParam`` expressions, DAG dependencies). The ``argo`` CLI is
built from the Go module proxy at the harness pin (``tests.cluster.argo_build``, cached outside the
repo, minutes the first time). The tests skip with the reason only when it cannot be built; set
``CONVEYOR_REQUIRE_ARGO_LINT=1`` (CI) to make that a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conveyor.compiler.argo import compile_cron_workflow, compile_workflow, to_yaml
from conveyor.runtime.loader import load_module_file
from tests.pipelines.compiler.test_compiler_golden import GOLDEN

# The module's first test pays a cold build (Go or debootstrap: minutes on 2 cores, longer beside CI's
# background prebuild, whose lock it may wait on); the suite's 300 s per-test limit is for tests, not builds.
pytestmark = pytest.mark.timeout(1800)

EXAMPLES = Path(__file__).resolve().parents[3] / "pipelines" / "examples"


@pytest.fixture(scope="module")
def argo_cli() -> Path:
    from tests.cluster.argo_build import BuildError, build

    reason = None
    if shutil.which("go") is None:
        reason = "argo lint: Go is not installed, so the argo CLI cannot be built"
    else:
        try:
            return build().argo
        except BuildError as exc:
            reason = f"argo lint: the argo CLI cannot be built: {exc}"
    if os.environ.get("CONVEYOR_REQUIRE_ARGO_LINT") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def lint(argo: Path, paths: list[Path]) -> dict[str, list[str]]:
    """Problems per file name, from one ``argo lint --offline -o simple`` run over ``paths``."""
    proc = subprocess.run([str(argo), "lint", "--offline", "--no-color", "-o", "simple", *map(str, paths)],
                          capture_output=True, text=True, timeout=120)
    problems: dict[str, list[str]] = {}
    for line in (proc.stdout + proc.stderr).splitlines():
        if m := re.match(r"^(/\S+?\.yaml): (.*)$", line):
            problems.setdefault(Path(m.group(1)).name, []).append(m.group(2))
    if proc.returncode != 0 and not problems:
        pytest.fail(f"argo lint exited {proc.returncode} without per-file output:\n{proc.stdout}{proc.stderr}")
    if proc.returncode == 0:
        assert not problems, problems
    return problems


def example_pipelines() -> list[tuple[str, object]]:
    found = []
    for path in sorted(EXAMPLES.rglob("*.py")):
        module = load_module_file(path)
        for attr, value in sorted(vars(module).items()):
            if hasattr(value, "pipeline_spec") and not isinstance(value, type):
                found.append((f"{path.relative_to(EXAMPLES).with_suffix('')}:{attr}", value))
    return found


def test_lint_finds_real_problems(argo_cli, tmp_path):
    """The check can fail: a Workflow whose entrypoint names no template is rejected, by file."""
    broken = tmp_path / "broken.yaml"
    broken.write_text((GOLDEN / "basic_dag.yaml").read_text().replace("entrypoint: basic-dag", "entrypoint: nope"))
    assert lint(argo_cli, [broken]) == {"broken.yaml": ["in \"basic-dag-\" (Workflow): template name 'nope' undefined"]}


def test_every_golden_manifest_passes_argo_lint(argo_cli):
    goldens = sorted(GOLDEN.glob("*.yaml"))
    assert len(goldens) >= 10
    assert lint(argo_cli, goldens) == {}


def with_accelerators(profile, accelerators: set[str]):
    """The example profile plus an on-demand pool for each accelerator the examples ask for."""
    offered = {p.accelerator for p in profile.gpu_pools}
    extra = [{"name": f"gpu-{a}", "labels": {"conveyor.dev/pool": f"gpu-{a}"}, "accelerator": a,
              "capacity": "on-demand"} for a in sorted(accelerators - offered)]
    return type(profile).model_validate({**profile.model_dump(mode="python"), "kubeconfig": None,
                                         "metadata_url": profile.metadata_url.get_secret_value(),
                                         "gpu_pools": [*profile.model_dump()["gpu_pools"], *extra]})


def test_every_compiled_example_passes_argo_lint(argo_cli, profile, options, tmp_path):
    pipelines = example_pipelines()
    wanted = {t.resources.accelerator_type.lower() for _, p in pipelines for t in p.pipeline_spec.tasks.values()
              if t.resources.accelerator_type}
    profile = with_accelerators(profile, wanted)
    assert len(pipelines) >= 5, [name for name, _ in pipelines]
    for name, pipeline in pipelines:
        spec = pipeline.pipeline_spec
        stem = name.replace("/", "-").replace(":", "-")
        (tmp_path / f"{stem}.yaml").write_text(to_yaml(compile_workflow(spec, profile, options)))
        embedded = type(options)(run_id="run-0001")  # the spec inline as a workflow parameter
        (tmp_path / f"{stem}-embedded.yaml").write_text(to_yaml(compile_workflow(spec, profile, embedded)))
        cron = compile_cron_workflow(spec, "0 3 * * *", profile, type(options)(), timezone="UTC")
        (tmp_path / f"{stem}-cron.yaml").write_text(to_yaml(cron))
    assert lint(argo_cli, sorted(tmp_path.glob("*.yaml"))) == {}


def test_pod_less_exit_only_workflows_and_per_execution_claim_names_pass_argo_lint(argo_cli, profile, tmp_path):
    """Two shapes no example has: a body fully cached (a zero-length suspend entrypoint, then onExit)
    and CreatePVC's claim named by ``{{pod.name}}`` inside a resource manifest."""
    from conveyor.compiler.argo import CompileOptions
    from conveyor.ir.graph import all_exit_tasks
    from tests.pipelines.compiler import feature_pipelines as fp
    from tests.pipelines.kfp.compat import fixture

    spec = fp.exit_handler.pipeline_spec
    body = [t for t in spec.tasks if t not in all_exit_tasks(spec)]
    exit_only = compile_workflow(spec, profile, CompileOptions(run_id="r1", cached={t: {} for t in body}))
    assert next(t for t in exit_only["spec"]["templates"] if t["name"] == exit_only["spec"]["entrypoint"])["suspend"]
    (tmp_path / "exit-only.yaml").write_text(to_yaml(exit_only))
    pvc = load_module_file(fixture("pvc_lifecycle.py"))
    pipeline = next(v for v in vars(pvc).values() if hasattr(v, "pipeline_spec") and not isinstance(v, type))
    manifest = compile_workflow(pipeline.pipeline_spec, profile, CompileOptions(run_id="r1"))
    assert "{{pod.name}}" in to_yaml(manifest)
    (tmp_path / "pvc.yaml").write_text(to_yaml(manifest))
    assert lint(argo_cli, sorted(tmp_path.glob("*.yaml"))) == {}
