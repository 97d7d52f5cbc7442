"""Resource requests as a packing constraint against what this machine has.

Requests decide admission: a task starts only when the running tasks' requests plus its own fit
in the machine's cores, memory and GPUs. A request larger than the machine is capped at its
capacity with a one-line warning (or refused with --strict-resources), so a pipeline written for
a big cluster still runs on a laptop.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

import psutil

from conveyor.ir.errors import PipelineDefinitionError
from conveyor.ir.spec import PipelineSpec, Resources
from conveyor.runtime.protocol.readiness import runtime_resources


@dataclass(frozen=True)
class Capacity:
    cpu: float
    memory: int
    gpu: int

    @classmethod
    def detect(cls) -> Capacity:
        return cls(cpu=float(os.cpu_count() or 1), memory=psutil.virtual_memory().total, gpu=_count_gpus())


def _count_gpus() -> int:
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([d for d in visible.split(",") if d.strip() and d.strip() != "-1"])
    if shutil.which("nvidia-smi") is None:
        return 0
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    return sum(1 for line in out.stdout.splitlines() if line.startswith("GPU "))


@dataclass(frozen=True)
class Request:
    cpu: float = 0.0
    memory: int = 0
    gpu: int = 0


def request_of(resources: Resources) -> Request:
    cpu = resources.cpu_request if resources.cpu_request is not None else (resources.cpu_limit or 0.0)
    memory = resources.memory_request if resources.memory_request is not None else (resources.memory_limit or 0)
    return Request(cpu=float(cpu), memory=int(memory), gpu=int(resources.accelerator_count or 0))


def runtime_request(resources: Resources, values: dict[str, Any], capacity: Capacity) -> Request:
    """The request of a task whose cpu/memory settings were run-time values, capped at the machine."""
    want = request_of(runtime_resources(resources, values))
    return Request(min(want.cpu, capacity.cpu), min(want.memory, capacity.memory), min(want.gpu, capacity.gpu))


def fit_requests(spec: PipelineSpec, capacity: Capacity, strict: bool) -> tuple[dict[str, Request], list[str]]:
    """Per-task requests capped at the machine; returns them and one warning per capped task."""
    requests: dict[str, Request] = {}
    warnings: list[str] = []
    for name, task in spec.tasks.items():
        want = request_of(task.resources)
        over = [f"{what} {asked:g}{unit} > {have:g}{unit}" for what, asked, have, unit in (
            ("cpu", want.cpu, capacity.cpu, ""),
            ("memory", want.memory / 2**30, capacity.memory / 2**30, "GiB"),
            ("gpu", want.gpu, capacity.gpu, ""),
        ) if asked > have]
        if over:
            message = f"task {name!r} requests more than this machine has: {', '.join(over)}"
            if strict:
                raise PipelineDefinitionError(message + " (--strict-resources)", pipeline=spec.name, task=name)
            warnings.append(message + "; running it capped at the machine's capacity")
            want = Request(min(want.cpu, capacity.cpu), min(want.memory, capacity.memory), min(want.gpu, capacity.gpu))
        requests[name] = want
    return requests, warnings


class Ledger:
    """What the running tasks hold; GPUs are handed out by index for CUDA_VISIBLE_DEVICES."""

    def __init__(self, capacity: Capacity):
        self.capacity = capacity
        self.cpu = 0.0
        self.memory = 0
        self._free_gpus = list(range(capacity.gpu))
        self._held: dict[str, tuple[Request, list[int]]] = {}

    def fits(self, req: Request) -> bool:
        if not self._held:
            return True  # an idle machine always admits one task: never deadlock on rounding
        return (self.cpu + req.cpu <= self.capacity.cpu + 1e-9
                and self.memory + req.memory <= self.capacity.memory
                and req.gpu <= len(self._free_gpus))

    def acquire(self, key: str, req: Request) -> list[int]:
        gpus, self._free_gpus = self._free_gpus[:req.gpu], self._free_gpus[req.gpu:]
        self.cpu += req.cpu
        self.memory += req.memory
        self._held[key] = (req, gpus)
        return gpus

    def release(self, key: str) -> None:
        held = self._held.pop(key, None)
        if held is None:
            return
        req, gpus = held
        self.cpu -= req.cpu
        self.memory -= req.memory
        self._free_gpus.extend(gpus)
