"""kfp's `components` module: load component specs written in YAML.

Two formats load: v1 component specs (`implementation: container:` with `{inputValue: x}`-style
placeholders) and what kfp 2.x compiles (pipeline IR: `components:` + `deploymentSpec:` executors,
container executors and Python-function executors whose command embeds the function source). A
compiled pipeline of several tasks loads as a pipeline, callable inside another pipeline like a
component, runnable with `conveyor.run` and compilable for Argo. Errors name the key that is wrong.
"""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import yaml

from conveyor.components.errors import ComponentSpecError
from conveyor.components.v1 import load_v1
from conveyor.components.v2 import load_v2


def load_component_from_text(text: str) -> Any:
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise ComponentSpecError(f"component spec is not valid YAML: {exc}") from None
    if not docs or not isinstance(docs[0], dict):
        raise ComponentSpecError("component spec must be a YAML mapping (v1 `implementation:` or kfp's compiled IR)")
    data = docs[0]
    if "deploymentSpec" in data or "pipelineInfo" in data:
        return load_v2(data)
    if "implementation" in data:
        return load_v1(data)
    raise ComponentSpecError(
        f"component spec has neither `implementation` (v1) nor `deploymentSpec` (kfp IR); top-level keys: "
        f"{sorted(data)}")


def load_component_from_file(file_path: str | Path) -> Any:
    path = Path(file_path)
    if not path.is_file():
        raise ComponentSpecError(f"component file {file_path} does not exist")
    return load_component_from_text(path.read_text())


def load_component_from_url(url: str, auth: Any = None) -> Any:
    """file://, http:// and https:// URLs (`auth` is accepted for kfp compatibility and unused)."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return load_component_from_file(unquote(parsed.path))
    if parsed.scheme not in ("http", "https"):
        raise ComponentSpecError(f"load_component_from_url({url!r}): scheme must be file, http or https")
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310 - scheme checked above
            return load_component_from_text(resp.read().decode())
    except OSError as exc:
        raise ComponentSpecError(f"load_component_from_url({url!r}): {exc}") from None


__all__ = ["ComponentSpecError", "load_component_from_file", "load_component_from_text", "load_component_from_url"]
