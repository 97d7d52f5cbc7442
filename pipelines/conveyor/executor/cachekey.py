"""Cache keys: what a task computes, from what, in which environment.

sha256 over the component's identity (its source, the project-local code it calls, base image,
packages, cache_version), the input parameter values, and the *content digests* of input
artifacts. Names and URIs are left out on purpose: the same bytes under another name are the
same input, and a changed file under the same name is a different one.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from conveyor.ir.spec import ComponentSpec

KEY_VERSION = 1


def _digests(value: Any) -> Any:
    if isinstance(value, list):
        return [_digests(v) for v in value]
    return value["digest"]


def cache_key(component: ComponentSpec, parameters: dict[str, Any], artifacts: dict[str, Any]) -> str:
    material = {
        "v": KEY_VERSION,
        "component": component.identity_digest(),
        "parameters": parameters,
        "artifacts": {name: _digests(value) for name, value in artifacts.items()},
    }
    text = json.dumps(material, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
