"""The laptop install (`pip install conveyor-ml[examples]`, what `make demo` does) must import.

Every third-party module that the runtime imports at module level must be a declared runtime
dependency. Cloud, cluster and infra code (S3/GCS stores, the launcher, the compiler, the pod
entrypoint, the Pulumi tools) may use its extras, but only from modules the runtime never imports
at module level. A missing `packaging` once broke `make demo` on a fresh machine while the full
dev environment hid it.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "pipelines" / "conveyor"
EXTRA_ONLY = ("conveyor.platform", "conveyor.launcher", "conveyor.compiler", "conveyor.runtime.pod",
              "conveyor.stores.artifacts.s3", "conveyor.stores.artifacts.gcs", "conveyor.stores.artifacts.remote",
              "conveyor.ui")  # the `ui` extra; the CLI imports it only inside `conveyor ui`


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT / "pipelines").with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _top_level_imports(path: Path) -> set[str]:
    """Imports executed when the module is imported (module body, not inside functions or TYPE_CHECKING)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for sub in ast.walk(node) if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) \
                else _class_body_imports(node):
            if isinstance(sub, ast.Import):
                names.update(alias.name.split(".")[0] for alias in sub.names)
            elif isinstance(sub, ast.ImportFrom) and sub.module and not sub.level:
                names.add(sub.module.split(".")[0])
    return names


def _class_body_imports(node: ast.AST) -> list[ast.AST]:
    return [] if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else [
        n for n in node.body if isinstance(n, ast.Import | ast.ImportFrom)]


def _runtime_distributions() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {Requirement(r).name.lower().replace("_", "-") for r in project["dependencies"]}


def undeclared(paths: list[Path]) -> list[str]:
    declared = _runtime_distributions()
    providers = metadata.packages_distributions()
    problems = []
    for path in paths:
        for name in sorted(_top_level_imports(path)):
            if name in sys.stdlib_module_names or name in ("conveyor", "__future__"):
                continue
            dists = {d.lower().replace("_", "-") for d in providers.get(name, [name])}
            if not dists & declared:
                problems.append(f"{path.name} imports {name!r} (from {sorted(dists)}), not a runtime dependency")
    return problems


def test_runtime_modules_import_only_declared_runtime_dependencies():
    paths = [p for p in sorted(PACKAGE.rglob("*.py"))
             if not _module_name(p).startswith(EXTRA_ONLY) and "migrations" not in p.parts]
    problems = undeclared(paths)
    assert not problems, "\n".join(problems)


def test_the_guard_can_fail(tmp_path):
    """A module importing an undeclared package at module level is reported; lazily is fine."""
    eager = tmp_path / "eager.py"
    eager.write_text("import boto3\nimport yaml\n")
    lazy = tmp_path / "lazy.py"
    lazy.write_text("def f():\n    import boto3\n")
    assert undeclared([eager]) == ["eager.py imports 'boto3' (from ['boto3']), not a runtime dependency"]
    assert undeclared([lazy]) == []
