"""Accelerator and instance-type catalogue per cloud.

Why a catalogue: a typo in an accelerator name or a GPU count on a CPU-only instance type is only
discovered by the cloud API minutes into `pulumi up`, after other resources changed. Validating
against this table fails at config-load time instead, with the allowed values in the message.
Add rows here when a new machine family is needed; nothing else has to change.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InstanceType:
    """A machine type: its built-in GPUs (accelerator + count) or the GPUs that can be attached."""

    name: str
    accelerator: str | None = None
    gpus: int = 0
    attachable: tuple[str, ...] = ()  # GCP N1: GPUs attached as guest accelerators
    max_attachable: int = 0


def _aws(name: str, accelerator: str | None = None, gpus: int = 0) -> InstanceType:
    return InstanceType(name, accelerator, gpus)


AWS_INSTANCES: dict[str, InstanceType] = {
    i.name: i
    for i in (
        _aws("m6i.large"),
        _aws("m6i.xlarge"),
        _aws("m6i.2xlarge"),
        _aws("m7i.xlarge"),
        _aws("c6i.2xlarge"),
        _aws("g4dn.xlarge", "nvidia-t4", 1),
        _aws("g4dn.12xlarge", "nvidia-t4", 4),
        _aws("g5.xlarge", "nvidia-a10g", 1),
        _aws("g5.2xlarge", "nvidia-a10g", 1),
        _aws("g5.12xlarge", "nvidia-a10g", 4),
        _aws("g5.48xlarge", "nvidia-a10g", 8),
        _aws("g6.xlarge", "nvidia-l4", 1),
        _aws("g6.12xlarge", "nvidia-l4", 4),
        _aws("p4d.24xlarge", "nvidia-a100", 8),
        _aws("p5.48xlarge", "nvidia-h100", 8),
    )
}

GCP_INSTANCES: dict[str, InstanceType] = {
    i.name: i
    for i in (
        InstanceType("e2-standard-4"),
        InstanceType("e2-standard-8"),
        InstanceType("n2-standard-8"),
        InstanceType("n1-standard-8", attachable=("nvidia-tesla-t4", "nvidia-tesla-v100"), max_attachable=4),
        InstanceType("n1-standard-16", attachable=("nvidia-tesla-t4", "nvidia-tesla-v100"), max_attachable=4),
        InstanceType("g2-standard-8", "nvidia-l4", 1),
        InstanceType("g2-standard-24", "nvidia-l4", 2),
        InstanceType("g2-standard-48", "nvidia-l4", 4),
        InstanceType("a2-highgpu-1g", "nvidia-tesla-a100", 1),
        InstanceType("a2-highgpu-8g", "nvidia-tesla-a100", 8),
        InstanceType("a3-highgpu-8g", "nvidia-h100-80gb", 8),
    )
}

# Nodes of an existing cluster are not provisioned by us; any well-known name may describe them.
EXISTING_ACCELERATORS = (
    "nvidia-t4",
    "nvidia-a10g",
    "nvidia-l4",
    "nvidia-a100",
    "nvidia-h100",
    "nvidia-rtx-4090",
)

INSTANCES: dict[str, dict[str, InstanceType]] = {"aws": AWS_INSTANCES, "gcp": GCP_INSTANCES, "existing": {}}


def accelerators(cloud: str) -> list[str]:
    """Accelerator names valid on `cloud`, sorted, for error messages and validation."""
    if cloud == "existing":
        return sorted(EXISTING_ACCELERATORS)
    names: set[str] = set()
    for inst in INSTANCES[cloud].values():
        if inst.accelerator:
            names.add(inst.accelerator)
        names.update(inst.attachable)
    return sorted(names)


def gpu_instance_types(cloud: str, accelerator: str) -> list[str]:
    """Instance types that carry (or can attach) `accelerator`."""
    return sorted(
        i.name
        for i in INSTANCES[cloud].values()
        if i.accelerator == accelerator or accelerator in i.attachable
    )


def default_instance_type(cloud: str, accelerator: str, gpus: int) -> str | None:
    """The smallest instance type with at least `gpus` of `accelerator` (None on an existing cluster)."""
    order = {name: n for n, name in enumerate(INSTANCES[cloud])}
    candidates = [
        i
        for i in INSTANCES[cloud].values()
        if (i.accelerator == accelerator and i.gpus >= gpus)
        or (accelerator in i.attachable and i.max_attachable >= gpus)
    ]
    candidates.sort(key=lambda i: (i.gpus or i.max_attachable, order[i.name]))
    return candidates[0].name if candidates else None


def gpus_available(cloud: str, instance_type: str, accelerator: str) -> int:
    """How many `accelerator` GPUs a node of `instance_type` can have (0 = none)."""
    inst = INSTANCES[cloud].get(instance_type)
    if inst is None:
        return 0
    if inst.accelerator == accelerator:
        return inst.gpus
    if accelerator in inst.attachable:
        return inst.max_attachable
    return 0
