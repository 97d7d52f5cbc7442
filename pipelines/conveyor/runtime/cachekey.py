"""Cache keys: what a task computes, from what, in which environment.

sha256 over the component's identity (its source, the project-local code it calls, base image,
packages, cache_version), the input parameter values, and the *content digests* of input
artifacts. Names and URIs are left out on purpose: the same bytes under another name are the
same input, and a changed file under the same name is a different one.

It lives in the runtime (not the executor) because three callers must compute the identical
key: the local scheduler, the in-pod entrypoint (`conveyor.runtime.pod`) and the launcher's
submit-time resolution of the cached prefix. A result cached locally against the same stores is
then a hit on the cluster, and the other way round.
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


def key_parameters(component: ComponentSpec, params: dict[str, Any]) -> dict[str, Any]:
    """An exit task's final status enters its key by outcome, not by run id: a rerun with the same
    outcome is a hit, a different outcome (a failure after a success) is not."""
    out = dict(params)
    for spec in component.inputs:
        if spec.style == "final_status" and isinstance(out.get(spec.name), dict):
            out[spec.name] = {k: v for k, v in out[spec.name].items() if k != "pipeline_job_resource_name"}
    return out


def task_cache_key(component: ComponentSpec, parameters: dict[str, Any], artifacts: dict[str, Any]) -> str:
    """The key of one task instance from its resolved inputs (what every caller should use)."""
    return cache_key(component, key_parameters(component, parameters), artifacts)
