"""A small interpreter of compiled Argo manifests that runs each pod's real argv through
``conveyor.runtime.pod.main`` - what the Argo controller would do, minus Kubernetes.

It exists so the tests exercise the *compiled* contract (argv, env, output files, parameter
passing between pods) instead of hand-written pod invocations. It supports what these tests
compile: the root DAG, ``dependencies``, retries (the retryStrategy limit, never exit code 3),
``onExit`` with ``{{workflow.status}}``/``{{workflow.failures}}``. Anything else raises, so a
test can never silently run less than the manifest says.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conveyor.compiler.argo import CompileOptions, compile_workflow
from conveyor.compiler.argo.options import OUTPUTS_DIR, RUNTIME_MODULE
from conveyor.profile import Profile
from conveyor.runtime import pod
from conveyor.stores.artifacts import open_artifact_store
from conveyor.stores.metadata import open_metadata_store

METADATA_SECRET = "conveyor-metadata/url"
_VAR = re.compile(r"\{\{([^{}]+)\}\}")


@dataclass
class NodeResult:
    task: str
    exit_codes: list[int] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return bool(self.exit_codes) and self.exit_codes[-1] == 0


class ArgoDriver:
    def __init__(self, manifest: dict[str, Any], secrets: dict[str, str], workdir: Path, name: str = "wf-test"):
        self.manifest, self.secrets, self.workdir, self.name = manifest, secrets, workdir, name
        self.spec = manifest["spec"]
        self.templates = {t["name"]: t for t in self.spec["templates"]}
        self.params = {p["name"]: p.get("value") for p in self.spec.get("arguments", {}).get("parameters", [])}
        self.nodes: dict[str, NodeResult] = {}
        self.status = "Succeeded"
        self.failures: list[dict[str, str]] = []

    # -- substitution ---------------------------------------------------------------------
    def _sub(self, text: str, scope: dict[str, str]) -> str:
        def one(match: re.Match) -> str:
            path = match.group(1).strip()
            if path in scope:
                return scope[path]
            if path.startswith("workflow.parameters."):
                return self.params[path[len("workflow.parameters."):]]
            if path.startswith("tasks."):
                _, node, _, _, param = path.split(".", 4)
                return self.nodes[node].outputs[param]
            if path == "workflow.status":
                return self.status
            if path == "workflow.failures":
                return json.dumps(self.failures)
            if path == "workflow.name":
                return self.name
            raise AssertionError(f"the test driver does not support {{{{{path}}}}}")

        return _VAR.sub(one, text)

    # -- running --------------------------------------------------------------------------
    def run(self) -> dict[str, NodeResult]:
        entry = self.templates[self.spec["entrypoint"]]
        if entry.get("suspend") != {"duration": "0"}:  # a zero-length suspend ends at once, podless
            self._dag(entry)
        if "onExit" in self.spec:
            self._dag(self.templates[self.spec["onExit"]])
        return self.nodes

    def _dag(self, template: dict[str, Any]) -> None:
        for task in template["dag"]["tasks"]:
            unsupported = {"when", "withItems", "withParam", "withSequence"} & set(task)
            assert not unsupported, f"the test driver does not support {unsupported}"
            if any(not self.nodes[d].succeeded for d in task.get("dependencies", [])):
                continue  # Argo does not start a task whose dependency failed
            args = {p["name"]: self._sub(p["value"], {}) for p in task.get("arguments", {}).get("parameters", [])}
            result = self._pod(task["name"], self.templates[task["template"]], args)
            self.nodes[task["name"]] = result
            if not result.succeeded:
                self.status = "Failed"
                self.failures.append({"displayName": task["name"], "message": f"exit code {result.exit_codes[-1]}",
                                      "templateName": task["template"], "phase": "Failed"})

    def _pod(self, node: str, template: dict[str, Any], args: dict[str, str]) -> NodeResult:
        assert "container" in template, f"the test driver runs container templates only, not {template['name']}"
        scope = {f"inputs.parameters.{k}": v for k, v in args.items()}
        container = template["container"]
        outdir = self.workdir / node / "outputs"
        argv = [self._sub(a, scope).replace(OUTPUTS_DIR, str(outdir)) for a in container["args"]]
        if container["command"][:2] == ["sh", "-c"]:
            argv = argv[2:]  # the install prelude execs the runtime with "$@"
        else:
            assert container["command"] == ["python", "-m", RUNTIME_MODULE]
        env = {}
        for var in container.get("env", []):
            if "value" in var:
                env[var["name"]] = self._sub(var["value"], scope)
            else:
                ref = var["valueFrom"]["secretKeyRef"]
                env[var["name"]] = self.secrets[f"{ref['name']}/{ref['key']}"]
        result = NodeResult(task=args.get("conveyor-task", node))
        strategy = template.get("retryStrategy") or {}
        limit = int(strategy.get("limit", 0))
        for _ in range(limit + 1):
            code = pod.main(argv, env)
            result.exit_codes.append(code)
            if code in (0, 3):
                break
        if result.succeeded:
            for param in template.get("outputs", {}).get("parameters", []):
                path = param["valueFrom"]["path"].replace(OUTPUTS_DIR, str(outdir))
                result.outputs[param["name"]] = Path(path).read_text()
        return result


@dataclass
class Cluster:
    """The stores a submitted run would use, and a way to run compiled workflows against them."""

    artifact_root: str
    metadata_url: str
    workdir: Path

    @property
    def profile(self) -> Profile:
        return Profile(cloud="aws", environment="test", artifact_root=self.artifact_root,
                       metadata_url=self.metadata_url, namespace="ml",
                       image_registry="registry.test/conveyor")

    def store(self):
        return open_metadata_store(self.metadata_url)

    def artifacts(self):
        return open_artifact_store(self.artifact_root)

    def compile(self, spec, run_id: str | None = None, **options: Any) -> dict[str, Any]:
        return compile_workflow(spec, self.profile, CompileOptions(run_id=run_id or f"run-{uuid.uuid4().hex[:8]}",
                                                                   **options))

    def run(self, spec=None, manifest: dict[str, Any] | None = None, **options: Any) -> tuple[str, dict]:
        """Compile (unless a manifest is given) and run every pod; returns (run id, node results)."""
        manifest = manifest or self.compile(spec, **options)
        pods = [t for t in manifest["spec"]["templates"] if "container" in t]
        run_id = next(e["value"] for e in pods[0]["container"]["env"] if e["name"] == "CONVEYOR_RUN_ID")
        driver = ArgoDriver(manifest, {METADATA_SECRET: self.metadata_url}, self.workdir / run_id)
        return run_id, driver.run()
