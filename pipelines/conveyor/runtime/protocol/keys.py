"""Cache keys: what a task computes, from what, in which environment - and which tasks never hit.

sha256 over the component's identity (its source, the project-local code it calls, base image,
packages, cache_version), the input parameter values, the *content digests* of input artifacts,
and the task's environment variables (``set_env_variable``: ``MODE=slow`` and ``MODE=fast`` are
different computations). Names and URIs are left out on purpose: the same bytes under another
name are the same input, and a changed file under the same name is a different one.

Key version 2 added the environment; entries written under version 1 are never reused.

Never cached (:func:`uncacheable`): a task whose component takes the run's final status
(``PipelineTaskFinalStatus``: an exit-handler notification must reach every run) or is declared
``side_effects=True`` (``@dsl.component(side_effects=True)``, kept in ``ComponentSpec.side_effects``),
or one that reads the run's workspace (``conveyor.ir.workspace``: a later run's workspace starts empty).
The local scheduler, the pod and submit-time resolution all ask
:func:`task_key`, so the three agree on the key and on whether there is one.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from conveyor.ir import workspace
from conveyor.ir.spec import ComponentSpec, PipelineSpec

KEY_VERSION = 2


def _digests(value: Any) -> Any:
    if isinstance(value, list):
        return [_digests(v) for v in value]
    return value["digest"]


def cache_key(component: ComponentSpec, parameters: dict[str, Any], artifacts: dict[str, Any],
              env: dict[str, str] | None = None) -> str:
    material = {
        "v": KEY_VERSION,
        "component": component.identity_digest(),
        "parameters": parameters,
        "artifacts": {name: _digests(value) for name, value in artifacts.items()},
        "env": dict(env or {}),
    }
    text = json.dumps(material, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def uncacheable(component: ComponentSpec) -> str | None:
    """Why this component is never served from the cache, or None when it may be."""
    if component.side_effects:
        return f"component {component.name!r} is declared side-effecting"
    status = next((i.name for i in component.inputs if i.style == "final_status"), None)
    if status is not None:
        return f"component {component.name!r} reads the run's final status ({status!r}): it runs in every run"
    return workspace.component_uses(component)


def task_key(spec: PipelineSpec, task: str, parameters: dict[str, Any], artifacts: dict[str, Any],
             use_cache: bool = True) -> str | None:
    """The cache key of one task instance from its resolved inputs, or None when it is not cached
    (caching off for the run or the task, or :func:`uncacheable`)."""
    spec_task = spec.tasks[task]
    component = spec.component_of(task)
    if not (use_cache and spec_task.caching) or uncacheable(component) is not None:
        return None
    if workspace.mentions(parameters):  # it reads this run's workspace
        return None
    return cache_key(component, parameters, artifacts, spec_task.env)
