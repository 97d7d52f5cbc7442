"""A component's source and the digest of the project code it calls.

The cache key must change when the component body changes *or* when a helper
it calls inside the project changes, but not when a site-packages library is
upgraded (that is what `packages_to_install` and `base_image` are for). So we
walk the names the function's code uses, follow those bound to functions,
classes or modules defined in files under the project root (the working
directory) and outside site-packages, and hash their source. conveyor itself
is never a dependency, whether installed or checked out in the project.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import os
import sys
import textwrap
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any


def function_source(func: Callable[..., Any]) -> str:
    """The function's own source without decorators, dedented, so a pod can exec it."""
    try:
        raw = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError) as exc:
        raise TypeError(f"cannot read the source of {func.__qualname__!r}: {exc}") from None
    tree = ast.parse(raw)
    node = tree.body[0]
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return raw
    lines = raw.splitlines(keepends=True)
    return "".join(lines[node.lineno - 1 :])


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _is_project_file(path: str | None, root: Path) -> bool:
    if not path:
        return False
    resolved = Path(path).resolve()
    parts = set(resolved.parts)
    if "site-packages" in parts or "dist-packages" in parts:
        return False
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
        if (
            prefix
            and resolved.is_relative_to(Path(prefix).resolve())
            and not root.is_relative_to(Path(prefix))
        ):
            return False
    return resolved.is_relative_to(root)


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def _unwrap(value: Any) -> Any:
    """Follow component wrappers (`.python_func`) and functools wrappers to the real function."""
    value = getattr(value, "python_func", value)
    return inspect.unwrap(value) if callable(value) else value


def _source_file(value: Any) -> str | None:
    try:
        return inspect.getsourcefile(value)
    except TypeError:
        return None


def project_dependencies(
    func: Callable[..., Any], root: str | os.PathLike[str] | None = None
) -> dict[str, str]:
    """Map `module:qualname` → source for every project-local function, class or module `func` uses."""
    project = Path(root or os.getcwd()).resolve()
    found: dict[str, str] = {}
    queue: list[Callable[..., Any]] = [func]
    seen: set[int] = {id(func)}
    while queue:
        current = queue.pop()
        code = getattr(current, "__code__", None)
        if code is None:
            continue
        names = _code_names(code)
        scope = dict(getattr(current, "__globals__", {}))
        closure = inspect.getclosurevars(current).nonlocals if current.__closure__ else {}
        scope.update(closure)
        for name in sorted(names | set(closure)):
            value = _unwrap(scope.get(name)) if name in scope else None
            if value is None or id(value) in seen:
                continue
            if not isinstance(value, types.FunctionType | type | types.ModuleType):
                continue
            module_name = (
                value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", "")
            )
            if (module_name or "").split(".")[0] == "conveyor":
                continue  # the framework itself, installed or editable, is not the user's code
            path = _source_file(value)
            if not _is_project_file(path, project):
                continue
            seen.add(id(value))
            key = (
                f"{getattr(value, '__module__', None) or value.__name__}:{getattr(value, '__qualname__', '')}"
            )
            try:
                found[key] = inspect.getsource(value)
            except (OSError, TypeError):
                found[key] = Path(path).read_text() if path else ""
            if isinstance(value, types.FunctionType):
                queue.append(value)
            elif isinstance(value, type):
                queue.extend(v for v in vars(value).values() if isinstance(v, types.FunctionType))
    return found


def deps_digest(func: Callable[..., Any], root: str | os.PathLike[str] | None = None) -> str:
    """sha256 over the sorted (name, source) pairs of the project code `func` calls."""
    deps = project_dependencies(func, root)
    return sha256("\n".join(f"{key}\n{deps[key]}" for key in sorted(deps)))
