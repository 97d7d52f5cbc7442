"""kfp-kubernetes' `CreatePVC` and `DeletePVC`: components that make and remove a claim in the pipeline.

They are called like kfp's (`kubernetes.CreatePVC(pvc_name_suffix="-data", access_modes=[...],
size="5Gi")`, its `.outputs["name"]` into `mount_pvc` and `DeletePVC(pvc_name=...)`). What the IR gets
is a `PvcImplementation` task. On Argo it is a resource template that creates or deletes the
PersistentVolumeClaim. Locally the claim is the folder `CONVEYOR_HOME/pvcs/<name>` that every
`mount_pvc` of that name links to. Neither is ever cached: each run makes its own claim.
"""

from __future__ import annotations

from typing import Any

from conveyor.dsl.channels import PipelineChannel
from conveyor.dsl.container import SpecComponent
from conveyor.ir import ComponentSpec, InputSpec, OutputSpec, parse_memory
from conveyor.ir.kubernetes import ACCESS_MODES, PVC_NAME_OUTPUT, PvcImplementation, claim_name


def _optional(name: str, type_name: str, default: Any = None) -> InputSpec:
    return InputSpec(name=name, kind="parameter", type=type_name, default=default, has_default=True,
                     optional=default is None)


class _PvcComponent(SpecComponent):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        task = super().__call__(*args, **kwargs)
        self._check(task, kwargs)
        task.caching = False  # a claim is made (or removed) by every run, as in kfp
        return task

    def _check(self, task: Any, kwargs: dict[str, Any]) -> None:
        """What can be checked while the pipeline is built: literal values only."""
        def literal(key: str) -> Any:
            value = kwargs.get(key)
            return None if isinstance(value, PipelineChannel) else value

        if self.component_spec.implementation.action != "create":  # type: ignore[union-attr]
            return
        modes = literal("access_modes")
        if modes is not None:
            bad = [m for m in modes if m not in ACCESS_MODES]
            if bad or not modes:
                raise task.state.error(f"access_modes {modes!r}: each must be one of {', '.join(ACCESS_MODES)}",
                                       task=task.name, argument="access_modes")
        size = literal("size")
        if size is not None:
            try:
                parse_memory(size)
            except ValueError as exc:
                raise task.state.error(f"size {size!r} is not a storage quantity such as '5Gi': {exc}",
                                       task=task.name, argument="size") from None
        source = literal("data_source")
        if source is not None and not (isinstance(source, dict) and source.get("kind") and source.get("name")):
            raise task.state.error(f"data_source {source!r} must be a dict with 'kind' and 'name' (and 'apiGroup' "
                                   "for a VolumeSnapshot), as PersistentVolumeClaim.spec.dataSource",
                                   task=task.name, argument="data_source")
        if not any(isinstance(kwargs.get(k), PipelineChannel) for k in ("pvc_name", "pvc_name_suffix")):
            try:
                claim_name(kwargs.get("pvc_name"), kwargs.get("pvc_name_suffix"), "id")
            except ValueError as exc:
                raise task.state.error(str(exc), task=task.name, argument="pvc_name") from None


CreatePVC = _PvcComponent(ComponentSpec(  # noqa: N816 - kfp's name
    name="CreatePVC",
    description="Create a PersistentVolumeClaim that downstream tasks mount (kfp-kubernetes' CreatePVC).",
    inputs=(
        InputSpec(name="access_modes", kind="parameter", type="list"),
        InputSpec(name="size", kind="parameter", type="str"),
        _optional("pvc_name", "str"),
        _optional("pvc_name_suffix", "str"),
        _optional("storage_class_name", "str", ""),
        _optional("volume_name", "str"),
        _optional("annotations", "dict"),
        _optional("data_source", "dict"),
    ),
    outputs=(OutputSpec(name=PVC_NAME_OUTPUT, kind="parameter", type="str", style="path"),),
    implementation=PvcImplementation(action="create"),
))

DeletePVC = _PvcComponent(ComponentSpec(  # noqa: N816 - kfp's name
    name="DeletePVC",
    description="Delete a PersistentVolumeClaim (kfp-kubernetes' DeletePVC).",
    inputs=(InputSpec(name="pvc_name", kind="parameter", type="str"),),
    implementation=PvcImplementation(action="delete"),
))
