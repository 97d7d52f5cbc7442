"""Find the user's function for a component, the same way in the CLI, a fork and a pod.

Order: the module file the DSL recorded (a warm fork server already has it imported), then an
importable module name, then the component's own source, exec'd without its decorators (what a
pod does when the image has no copy of the project).
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.util
import sys
import textwrap
import typing
from pathlib import Path
from types import ModuleType
from typing import Any

from conveyor.ir import artifacts as ir_artifacts
from conveyor.ir import types as ir_types
from conveyor.ir.errors import PipelineDefinitionError
from conveyor.ir.spec import LOCAL_MODULE_PREFIX, PythonFunction
from conveyor.runtime.reentry import RunSkipped, importing_file

_BY_FILE: dict[str, ModuleType] = {}


def module_name_for(path: Path) -> str:
    """A stable module name per file, so every process gives a pipeline file the same name."""
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:10]
    return f"{LOCAL_MODULE_PREFIX}{path.stem}_{digest}"


def load_module_file(path: str | Path) -> ModuleType:
    resolved = Path(path).resolve()
    key = str(resolved)
    if key in _BY_FILE:
        return _BY_FILE[key]
    if not resolved.is_file():
        raise FileNotFoundError(f"pipeline file {path} does not exist")
    name = module_name_for(resolved)
    spec = importlib.util.spec_from_file_location(name, resolved)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    parent = str(resolved.parent)
    if parent not in sys.path:
        sys.path.insert(0, parent)
    sys.modules[name] = module
    try:
        with importing_file():
            spec.loader.exec_module(module)
    except RunSkipped:
        pass  # the file's own `conveyor.run(...)`: what follows it is the script's main part, not ours to run
    except BaseException:
        sys.modules.pop(name, None)
        raise
    _BY_FILE[key] = module
    return module


def _unwrap(obj: Any) -> Any:
    return getattr(obj, "python_func", obj)


def _lookup(module: ModuleType, qualname: str) -> Any:
    obj: Any = module
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return _unwrap(obj)


def _exec_source(impl: PythonFunction) -> Any:
    """Define the function from its source alone, with kfp-style names in scope."""
    tree = ast.parse(textwrap.dedent(impl.source))
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    if not funcs:
        raise PipelineDefinitionError(f"component source for {impl.function!r} defines no function")
    for func in funcs:
        func.decorator_list = []
    namespace: dict[str, Any] = {"__name__": "__conveyor_component__", "typing": typing,
                                 "NamedTuple": typing.NamedTuple, "List": list, "Dict": dict}
    for module in (ir_types, ir_artifacts):
        namespace.update({k: v for k, v in vars(module).items() if not k.startswith("_")})
    exec(compile(tree, f"<component {impl.function}>", "exec"), namespace)  # noqa: S102 - the user's own code
    return namespace[funcs[-1].name]


def resolve_function(impl: PythonFunction) -> Any:
    if impl.module_file and Path(impl.module_file).is_file():
        return _lookup(load_module_file(impl.module_file), impl.function)
    if impl.module:
        try:
            return _lookup(importlib.import_module(impl.module), impl.function)
        except (ImportError, AttributeError):
            pass
    return _exec_source(impl)


def imports_of(source: str) -> list[str]:
    """Absolute modules a component's body imports, in order: what a warm worker should preload."""
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return []
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return list(dict.fromkeys(names))


_PRELOADS: dict[str, list[str]] = {}


def preload_items(impl: PythonFunction) -> list[str]:
    """What a warm worker should import before forking this component: its file and its imports."""
    if not isinstance(impl, PythonFunction):  # a container component imports nothing here
        return []
    key = f"{impl.module_file}|{impl.source_digest}"
    if key not in _PRELOADS:
        _PRELOADS[key] = ([impl.module_file] if impl.module_file else []) + imports_of(impl.source)
    return _PRELOADS[key]


def find_pipeline(path: str | Path, name: str | None = None) -> Any:
    """The pipeline object in a file: the one named, or the only one there is."""
    module = load_module_file(path)
    # look the property up on the class: `hasattr(obj, ...)` would build every pipeline in the file and
    # an AttributeError raised by a pipeline's body would hide the pipeline instead of surfacing
    found = {k: v for k, v in vars(module).items() if not isinstance(v, type) and hasattr(type(v), "pipeline_spec")}
    if name is not None:
        named = getattr(module, name, None)
        if name not in found and hasattr(named, "as_pipeline"):  # FILE:COMPONENT runs a one-task pipeline
            return named.as_pipeline()
        if name not in found:
            raise PipelineDefinitionError(
                f"{path}: no pipeline named {name!r}; pipelines in this file: {', '.join(sorted(found)) or '(none)'}")
        return found[name]
    if len(found) == 1:
        return next(iter(found.values()))
    if not found:
        raise PipelineDefinitionError(f"{path}: no @dsl.pipeline function found")
    raise PipelineDefinitionError(
        f"{path}: several pipelines ({', '.join(sorted(found))}); choose one with {path}:NAME")
