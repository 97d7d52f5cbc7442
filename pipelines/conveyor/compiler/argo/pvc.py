"""kfp-kubernetes' CreatePVC / DeletePVC tasks as Argo resource templates.

A create task becomes ``resource: {action: create}`` with a PersistentVolumeClaim manifest and the
output parameter ``name`` read back from the created object (``{.metadata.name}``), so downstream
``mount_pvc`` and ``DeletePVC`` see the real name. A delete task is ``resource: {action: delete}``.
Literal inputs are written into the manifest; pipeline values arrive as template inputs. The claim is
named as kfp's driver names it: ``pvc_name``, or an ID unique to this execution followed by
``pvc_name_suffix``: the resource pod's name (``{{pod.name}}``), so two CreatePVC tasks with one suffix,
or one inside a ParallelFor, get a claim each (the workflow's UID made them collide), as locally,
where each execution takes a fresh UUID;
an empty ``storage_class_name`` (kfp's default) leaves the class to the cluster's default. The workflow's service
account needs RBAC to create and delete PersistentVolumeClaims in its namespace.
"""

from __future__ import annotations

import json
from typing import Any

import hera.workflows.models as m

from conveyor.compiler.argo.naming import param_name
from conveyor.compiler.argo.options import CompileError
from conveyor.ir import ComponentSpec, Constant, TaskSpec
from conveyor.ir.kubernetes import PVC_NAME_OUTPUT, PvcImplementation, claim_name

_RAW = "__conveyor_raw_{}__"


def _values(task: TaskSpec, component: ComponentSpec) -> tuple[dict[str, Any], list[str]]:
    """Each input's manifest value (a literal, or a template input reference) and the inputs to declare."""
    values: dict[str, Any] = {}
    params: list[str] = []
    for inp in component.inputs:
        arg = task.arguments.get(inp.name)
        if arg is None:
            values[inp.name] = inp.default if inp.has_default else None
        elif isinstance(arg, Constant):
            values[inp.name] = arg.value
        else:
            params.append(inp.name)
            ref = "{{inputs.parameters." + param_name(inp.name) + "}}"
            values[inp.name] = ref if inp.type == "str" else _RAW.format(param_name(inp.name))  # JSON, unquoted
    return values, params


def _claim_name(values: dict[str, Any], what: str) -> str:
    try:
        return claim_name(values.get("pvc_name"), values.get("pvc_name_suffix"), "{{pod.name}}")
    except ValueError as exc:
        raise CompileError(f"{what}: {exc}") from None


def manifest(task: TaskSpec, component: ComponentSpec, what: str) -> tuple[str, list[str]]:
    """The PersistentVolumeClaim manifest (JSON, which Argo reads as YAML) and its template inputs."""
    impl = component.implementation
    assert isinstance(impl, PvcImplementation)
    values, params = _values(task, component)
    if impl.action == "delete":
        metadata: dict[str, Any] = {"name": values["pvc_name"]}
        body: dict[str, Any] = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata}
    else:
        metadata = {"name": _claim_name(values, what)}
        if values.get("annotations"):
            metadata["annotations"] = values["annotations"]
        spec: dict[str, Any] = {"accessModes": values["access_modes"],
                                "resources": {"requests": {"storage": values["size"]}}}
        if values.get("storage_class_name"):
            spec["storageClassName"] = values["storage_class_name"]
        if values.get("volume_name"):
            spec["volumeName"] = values["volume_name"]
        if values.get("data_source"):
            spec["dataSource"] = values["data_source"]
        body = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata, "spec": spec}
    text = json.dumps(body, indent=2)
    for name in params:
        text = text.replace(json.dumps(_RAW.format(param_name(name))), "{{inputs.parameters." + param_name(name) + "}}")
    return text, params


def pvc_template(name: str, task: TaskSpec, component: ComponentSpec, what: str) -> tuple[m.Template, list[str]]:
    """The resource template and the inputs its DAG task must pass."""
    impl = component.implementation
    assert isinstance(impl, PvcImplementation)
    text, params = manifest(task, component, what)
    outputs = None
    if impl.action == "create":
        outputs = m.Outputs(parameters=[m.Parameter(name=param_name(PVC_NAME_OUTPUT),
                                                    value_from=m.ValueFrom(json_path="{.metadata.name}"))])
    return m.Template(
        name=name,
        inputs=m.Inputs(parameters=[m.Parameter(name=param_name(p)) for p in params]) if params else None,
        resource=m.ResourceTemplate(action=impl.action, manifest=text),
        outputs=outputs,
    ), params
