"""The frozen pipeline spec: what the DSL builds and every executor reads.

Everything is plain data (pydantic, frozen, JSON round-trippable) with a
stable digest. Sub-pipelines are inlined by the DSL, so executors see one flat
task map plus a tree of groups (loops, conditions, exit handlers) linked by
`parent`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import Field

from conveyor.ir.base import Frozen
from conveyor.ir.container import ContainerImplementation
from conveyor.ir.embedded import EmbeddedArtifact
from conveyor.ir.errors import PipelineDefinitionError
from conveyor.ir.importer import ImporterImplementation
from conveyor.ir.kubernetes import LATER_FIELDS, KubernetesSettings, PvcImplementation
from conveyor.ir.types import value_matches
from conveyor.ir.values import Arg, Collected, Condition, LoopItems, OneOf, TaskOutput
from conveyor.ir.workspace import WorkspaceSpec

InputStyle = Literal["value", "artifact", "path", "final_status"]
OutputStyle = Literal["return", "return_field", "artifact", "path"]
SINGLE_OUTPUT = "Output"
LOCAL_MODULE_PREFIX = "conveyor_user_"  # module names the runtime gives pipeline files it loads by path


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class InputSpec(Frozen):
    """One input of a component or pipeline.

    `style` says how the function receives it: the value itself, an artifact
    object (`Input[T]`), a local path (`InputPath`), or the final status.
    `is_list` marks a fan-in input such as `Input[List[Model]]`.
    """

    name: str
    kind: Literal["parameter", "artifact"]
    type: str
    style: InputStyle = "value"
    default: Any = None
    has_default: bool = False
    optional: bool = False
    is_list: bool = False

    @property
    def required(self) -> bool:
        return not (self.has_default or self.optional)


class OutputSpec(Frozen):
    """One output: the return value ("Output"), a NamedTuple field, an `Output[T]` or an `OutputPath` param."""

    name: str
    kind: Literal["parameter", "artifact"]
    type: str
    style: OutputStyle = "return"


class PythonFunction(Frozen):
    """How to call the component: import `module`/`module_file` and call `function`, or exec `source`.

    `source_digest` hashes `source`; `deps_digest` hashes the source of the
    project-local functions and classes it uses (for the cache key).
    """

    kind: Literal["python_function"] = "python_function"
    module_file: str | None = None
    module: str | None = None
    function: str
    source: str
    source_digest: str
    deps_digest: str


class ComponentSpec(Frozen):
    """A reusable unit of work with a typed signature and a cache identity."""

    name: str
    description: str | None = None
    inputs: tuple[InputSpec, ...] = ()
    outputs: tuple[OutputSpec, ...] = ()
    implementation: Annotated[PythonFunction | ContainerImplementation | ImporterImplementation | PvcImplementation,
                              Field(discriminator="kind")]
    base_image: str | None = None
    packages_to_install: tuple[str, ...] = ()
    cache_version: str | None = None
    cache_ttl_seconds: float | None = None
    # Acts on the world (pushes, deploys, notifies): never served from the cache, in any run.
    # Left out of the JSON when False, so existing specs keep their digests.
    side_effects: bool = Field(default=False, exclude_if=lambda value: not value)
    # kfp's embedded_artifact_path + EmbeddedInput[T] parameters; left out of the JSON when unset, so
    # specs (and digests) written before it existed stay equal.
    embedded: EmbeddedArtifact | None = Field(default=None, exclude_if=lambda value: value is None)

    def input(self, name: str) -> InputSpec | None:
        return next((i for i in self.inputs if i.name == name), None)

    def output(self, name: str) -> OutputSpec | None:
        return next((o for o in self.outputs if o.name == name), None)

    def identity_digest(self) -> str:
        """The component part of the cache key: what it runs and in which environment."""
        return sha256_text(
            _canonical(
                {
                    "source": self.implementation.source_digest,
                    "deps": self.implementation.deps_digest,
                    "base_image": self.base_image,
                    "packages": list(self.packages_to_install),
                    "cache_version": self.cache_version,
                    **({"embedded": self.embedded.digest} if self.embedded else {}),
                }
            )
        )


class Resources(Frozen):
    """Requests and limits in plain units: cpu in cores, memory in bytes."""

    cpu_request: float | None = None
    cpu_limit: float | None = None
    memory_request: int | None = None
    memory_limit: int | None = None
    accelerator_type: str | None = None
    accelerator_count: int | None = None


class RetryPolicy(Frozen):
    """Retries of transient failures: delay = min(backoff_duration_s * factor**attempt, max)."""

    num_retries: int = 0
    backoff_duration_s: float = 0.0
    backoff_factor: float = 2.0
    backoff_max_duration_s: float = 3600.0


class Toleration(Frozen):
    """A Kubernetes toleration; local mode ignores it."""

    key: str | None = None
    operator: Literal["Equal", "Exists"] = "Equal"
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    toleration_seconds: int | None = None


class TaskSpec(Frozen):
    """One node of the DAG: a component call with its arguments and settings."""

    name: str
    component: str
    display_name: str | None = None
    arguments: dict[str, Arg] = Field(default_factory=dict)
    after: tuple[str, ...] = ()
    group: str | None = None
    resources: Resources = Resources()
    retry: RetryPolicy = RetryPolicy()
    caching: bool = True
    timeout_s: float | None = None
    env: dict[str, str] = Field(default_factory=dict)
    node_selector: dict[str, str] = Field(default_factory=dict)
    tolerations: tuple[Toleration, ...] = ()
    kubernetes: KubernetesSettings = KubernetesSettings()  # conveyor.kubernetes (kfp-kubernetes) pod settings
    # kfp's .ignore_upstream_failure(): run once upstream tasks end, even if they failed; an input
    # whose producer failed falls back to its default.
    # Left out of the JSON while False, so specs (and their digests) written before it existed stay equal.
    ignore_upstream_failure: bool = Field(default=False, exclude_if=lambda value: not value)
    # cpu/memory requests and limits given a run-time value (a pipeline parameter or task output), by
    # Resources field name; resolved when the task starts. Left out of the JSON while empty.
    resource_args: dict[str, Arg] = Field(default_factory=dict, exclude_if=lambda value: not value)


class ParallelForGroup(Frozen):
    """Run the group's tasks once per item; `parallelism` caps concurrent iterations (None: no cap)."""

    kind: Literal["parallel_for"] = "parallel_for"
    id: str
    parent: str | None = None
    items: LoopItems
    parallelism: int | None = None


class ConditionGroup(Frozen):
    """Run the group's tasks only when `condition` holds; otherwise they are skipped."""

    kind: Literal["condition"] = "condition"
    id: str
    parent: str | None = None
    condition: Condition


class ExitHandlerGroup(Frozen):
    """`exit_task` (outside the group) runs after the group's tasks, whether they succeed or fail."""

    kind: Literal["exit_handler"] = "exit_handler"
    id: str
    parent: str | None = None
    exit_task: str
    # The other tasks of a sub-pipeline used as the exit task (kfp allows a pipeline there); left out
    # of the JSON when empty so older specs and digests stay equal.
    more_exit_tasks: tuple[str, ...] = Field(default=(), exclude_if=lambda value: not value)

    @property
    def exit_tasks(self) -> tuple[str, ...]:
        return (self.exit_task, *self.more_exit_tasks)


Group = Annotated[ParallelForGroup | ConditionGroup | ExitHandlerGroup, Field(discriminator="kind")]


_NO_KUBERNETES = {k: v for k, v in KubernetesSettings().model_dump(mode="json").items() if k not in LATER_FIELDS}


class PipelineSpec(Frozen):
    """A whole pipeline: inputs, outputs, components, a flat task map and the group tree."""

    schema_version: Literal[1] = 1
    name: str
    description: str | None = None
    inputs: tuple[InputSpec, ...] = ()
    outputs: dict[str, Annotated[TaskOutput | Collected | OneOf, Field(discriminator="kind")]] = Field(
        default_factory=dict
    )
    components: dict[str, ComponentSpec] = Field(default_factory=dict)
    tasks: dict[str, TaskSpec] = Field(default_factory=dict)
    groups: dict[str, Group] = Field(default_factory=dict)
    workspace: WorkspaceSpec | None = None  # dsl.PipelineConfig(workspace=...): a folder all tasks share

    def to_dict(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        if data["workspace"] is None:  # left out when unset: digests and manifests stay as before
            del data["workspace"]
        for task in data["tasks"].values():  # unset pod settings are left out: digests and manifests stay as before
            kube = task.get("kubernetes") or {}
            for key, unset in LATER_FIELDS.items():
                if kube.get(key, unset) == unset:
                    kube.pop(key, None)
            if kube == _NO_KUBERNETES:
                del task["kubernetes"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PipelineSpec:
        return cls.model_validate(data)

    def to_json(self, indent: int | None = None) -> str:
        if indent is None:
            return _canonical(self.to_dict())
        return json.dumps(self.to_dict(), sort_keys=True, indent=indent)

    @classmethod
    def from_json(cls, text: str) -> PipelineSpec:
        return cls.model_validate_json(text)

    def digest(self) -> str:
        """sha256 of the canonical JSON: equal specs give equal digests across processes."""
        return sha256_text(_canonical(self.to_dict()))

    def portable(self) -> PipelineSpec:
        """This spec without machine-local locations, for a cluster: no module file paths, and no module
        names derived from them (`conveyor_user_*`); a pod runs each component from its source or an
        importable module. The same pipeline then compiles to the same manifest on every checkout."""
        components = {}
        for name, component in self.components.items():
            impl = component.implementation
            if not isinstance(impl, PythonFunction):
                components[name] = component
                continue
            module = None if (impl.module or "").startswith(LOCAL_MODULE_PREFIX) else impl.module
            components[name] = component.model_copy(
                update={"implementation": impl.model_copy(update={"module_file": None, "module": module})})
        return self.model_copy(update={"components": components})

    def input(self, name: str) -> InputSpec | None:
        return next((i for i in self.inputs if i.name == name), None)

    def with_defaults(self, values: dict[str, Any]) -> PipelineSpec:
        """This spec with `values` as the defaults of its parameter inputs; errors name the input."""
        inputs = {i.name: i for i in self.inputs}
        for name, value in values.items():
            spec = inputs.get(name)
            if spec is None or spec.kind != "parameter":
                allowed = sorted(k for k, i in inputs.items() if i.kind == "parameter")
                raise PipelineDefinitionError(
                    f"pipeline {self.name!r}: pipeline_parameters names {name!r}, which is not a parameter input; "
                    f"allowed: {allowed}")
            if value is not None and not value_matches(spec.type, value):
                raise PipelineDefinitionError(
                    f"pipeline {self.name!r}: pipeline_parameters[{name!r}] = {value!r} is not a {spec.type}")
            inputs[name] = spec.model_copy(update={"default": value, "has_default": True})
        return self.model_copy(update={"inputs": tuple(inputs.values())}) if values else self

    def component_of(self, task: str) -> ComponentSpec:
        return self.components[self.tasks[task].component]
