"""PipelineTask: one component call inside a pipeline, with kfp's chainable setters.

Setters validate and normalise at once (quantities to numbers, durations to
seconds) and name the pipeline, task and argument in any error. `to_spec`
freezes the task into an IR TaskSpec when the pipeline finishes building.
"""

from __future__ import annotations

from typing import Any

from conveyor.dsl.channels import PipelineChannel, TaskOutputChannel
from conveyor.dsl.context import BuildState
from conveyor.dsl.formatted import refuse_tokens
from conveyor.ir import (
    ComponentSpec,
    Resources,
    RetryPolicy,
    TaskSpec,
    Toleration,
    parse_cpu,
    parse_duration,
    parse_memory,
)
from conveyor.ir.kubernetes import KubernetesSettings
from conveyor.ir.placeholders import leaked_token


class TaskOutputs(dict):
    """`task.outputs[name]`; an unknown name is an authoring error listing the outputs."""

    def __init__(self, task: PipelineTask, channels: dict[str, TaskOutputChannel]) -> None:
        super().__init__(channels)
        self._task = task

    def __missing__(self, key: str) -> TaskOutputChannel:
        raise self._task.state.error(
            f"has no output {key!r}; its outputs: {sorted(self)}", task=self._task.name
        )


def after_names(task: Any, state: BuildState, owner: str) -> list[str]:
    """Task names `.after(task)` means: one task, or every task of an inlined sub-pipeline."""
    names = getattr(task, "task_names", None)
    if names is None:
        raise state.error(f".after() takes tasks, got {task!r}", task=owner)
    return list(names)


class PipelineTask:
    """A call of a component in a pipeline (kfp's `PipelineTask`)."""

    def __init__(
        self, state: BuildState, name: str, component_key: str, spec: ComponentSpec, arguments: dict[str, Any]
    ) -> None:
        self.state = state
        self.name = name
        self.component_key = component_key
        self.component_spec = spec
        self.arguments = arguments
        self.group = state.current_group
        self.display_name: str | None = None
        self.after_tasks: list[str] = []
        self.resources: dict[str, Any] = {}
        self.retry = RetryPolicy()
        self.caching = True
        self.timeout_s: float | None = None
        self.env: dict[str, str] = {}
        self.node_selector: dict[str, str] = {}
        self.tolerations: list[Toleration] = []
        self.ignore_failure = False
        self.resource_args: dict[str, Any] = {}
        channels = {o.name: TaskOutputChannel(name, o.name, o.kind, o.type) for o in spec.outputs}
        self._outputs = TaskOutputs(self, channels)

    @property
    def task_names(self) -> list[str]:
        return [self.name]

    # outputs -----------------------------------------------------------
    @property
    def outputs(self) -> TaskOutputs:
        return self._outputs

    @property
    def output(self) -> TaskOutputChannel:
        if len(self._outputs) == 1:
            return next(iter(self._outputs.values()))
        if not self._outputs:
            raise self.state.error("has no outputs, so .output is not available", task=self.name)
        raise self.state.error(
            f"has {len(self._outputs)} outputs {sorted(self._outputs)}; use .outputs[name]", task=self.name
        )

    def after(self, *tasks: Any) -> PipelineTask:
        for task in tasks:
            for name in after_names(task, self.state, self.name):
                if name == self.name:
                    raise self.state.error("a task cannot run .after() itself", task=self.name)
                if name not in self.after_tasks:
                    self.after_tasks.append(name)
        return self

    # resources ---------------------------------------------------------
    def _fixed(self, setting: str, value: Any) -> None:
        """Resources are planned before a run starts (local packing, the Argo pod spec): refuse a run-time value."""
        if isinstance(value, PipelineChannel) or leaked_token(value):
            raise self.state.error(
                f"{setting}() was given the pipeline value {value!r}; conveyor picks accelerators when the "
                "pipeline is built (the Argo GPU pool and node selector), so pass a literal such as 'NVIDIA_TESLA_T4' "
                "or 1, or choose between literal settings with dsl.If/dsl.Else (cpu and memory may be run-time values)",
                task=self.name,
                argument=setting,
            )

    def _quantity(self, field: str, parser: Any, value: Any) -> PipelineTask:
        if isinstance(value, PipelineChannel):  # kfp resolves these when the task runs; so does conveyor
            if value.kind != "parameter" or value.to_arg().kind not in ("pipeline_param", "task_output"):
                raise self.state.error(f"set_{field}() takes a quantity, a pipeline parameter or a task output, "
                                       f"got {value!r}", task=self.name, argument=field)
            self.resources.pop(field, None)
            self.resource_args[field] = value.to_arg()
            return self
        if leaked_token(value):
            raise self.state.error(f"set_{field}() got the formatted string {value!r:.80}; pass the parameter "
                                   "itself (e.g. '4G' as the parameter's value), not text around it",
                                   task=self.name, argument=field)
        self.resource_args.pop(field, None)
        try:
            self.resources[field] = parser(value)
        except ValueError as exc:
            raise self.state.error(str(exc), task=self.name, argument=field) from None
        return self

    def set_cpu_request(self, cpu: str | float) -> PipelineTask:
        return self._quantity("cpu_request", parse_cpu, cpu)

    def set_cpu_limit(self, cpu: str | float) -> PipelineTask:
        return self._quantity("cpu_limit", parse_cpu, cpu)

    def set_memory_request(self, memory: str | int) -> PipelineTask:
        return self._quantity("memory_request", parse_memory, memory)

    def set_memory_limit(self, memory: str | int) -> PipelineTask:
        return self._quantity("memory_limit", parse_memory, memory)

    def set_accelerator_type(self, accelerator: str) -> PipelineTask:
        self._fixed("set_accelerator_type", accelerator)
        if not isinstance(accelerator, str) or not accelerator:
            raise self.state.error(
                f"accelerator type must be a non-empty string, got {accelerator!r}",
                task=self.name,
                argument="accelerator",
            )
        self.resources["accelerator_type"] = accelerator
        return self

    add_node_selector_constraint = set_accelerator_type

    def set_accelerator_limit(self, limit: int | str) -> PipelineTask:
        self._fixed("set_accelerator_limit", limit)
        try:
            count = int(limit)
        except (TypeError, ValueError):
            count = -1
        if count < 0 or isinstance(limit, bool | float):
            raise self.state.error(
                f"accelerator limit must be a whole number >= 0, got {limit!r}",
                task=self.name,
                argument="limit",
            )
        self.resources["accelerator_count"] = count
        return self

    def set_gpu_limit(self, gpu: int | str) -> PipelineTask:
        return self.set_accelerator_limit(gpu)

    # behaviour ---------------------------------------------------------
    def set_retry(
        self,
        num_retries: int,
        backoff_duration: str | float | None = None,
        backoff_factor: float | None = None,
        backoff_max_duration: str | float | None = None,
    ) -> PipelineTask:
        if isinstance(num_retries, bool) or not isinstance(num_retries, int) or num_retries < 0:
            raise self.state.error(
                f"num_retries must be an int >= 0, got {num_retries!r}",
                task=self.name,
                argument="num_retries",
            )
        fields: dict[str, Any] = {"num_retries": num_retries}
        for key, value in (
            ("backoff_duration_s", backoff_duration),
            ("backoff_max_duration_s", backoff_max_duration),
        ):
            if value is not None:
                try:
                    fields[key] = parse_duration(value)
                except ValueError as exc:
                    raise self.state.error(str(exc), task=self.name, argument=key[:-2]) from None
        if backoff_factor is not None:
            if (
                isinstance(backoff_factor, bool)
                or not isinstance(backoff_factor, int | float)
                or backoff_factor < 1
            ):
                raise self.state.error(
                    f"backoff_factor must be a number >= 1, got {backoff_factor!r}",
                    task=self.name,
                    argument="backoff_factor",
                )
            fields["backoff_factor"] = float(backoff_factor)
        self.retry = RetryPolicy(**fields)
        return self

    def set_caching_options(self, enable_caching: bool, cache_key: str | None = None) -> PipelineTask:
        """kfp's `cache_key` is accepted for compatibility; conveyor always keys on content."""
        if not isinstance(enable_caching, bool):
            raise self.state.error(
                f"enable_caching must be True or False, got {enable_caching!r}",
                task=self.name,
                argument="enable_caching",
            )
        self.caching = enable_caching
        return self

    def set_display_name(self, name: str) -> PipelineTask:
        refuse_tokens(self.state, str(name), self.name, "display_name")
        self.display_name = str(name)
        return self

    def set_env_variable(self, name: str, value: str) -> PipelineTask:
        if not isinstance(name, str) or not name:
            raise self.state.error(
                f"environment variable name must be a non-empty string, got {name!r}",
                task=self.name,
                argument="name",
            )
        refuse_tokens(self.state, str(value), self.name, f"env {name}")
        self.env[name] = str(value)
        return self

    def set_node_selector(self, selector: dict[str, str]) -> PipelineTask:
        if not isinstance(selector, dict):
            raise self.state.error(
                f"node selector must be a dict of label: value, got {selector!r}",
                task=self.name,
                argument="selector",
            )
        self.node_selector.update({str(k): str(v) for k, v in selector.items()})
        return self

    def add_toleration(
        self,
        key: str | None = None,
        operator: str = "Equal",
        value: str | None = None,
        effect: str | None = None,
        toleration_seconds: int | None = None,
    ) -> PipelineTask:
        try:
            self.tolerations.append(
                Toleration(
                    key=key,
                    operator=operator,
                    value=value,
                    effect=effect,
                    toleration_seconds=toleration_seconds,
                )
            )
        except ValueError as exc:
            raise self.state.error(
                f"invalid toleration: {exc}", task=self.name, argument="toleration"
            ) from None
        return self

    def set_timeout(self, seconds: float | str) -> PipelineTask:
        try:
            timeout = parse_duration(seconds)
        except ValueError as exc:
            raise self.state.error(str(exc), task=self.name, argument="timeout") from None
        if timeout <= 0:
            raise self.state.error(
                f"timeout must be greater than zero, got {seconds!r}", task=self.name, argument="timeout"
            )
        self.timeout_s = timeout
        return self

    def ignore_upstream_failure(self) -> PipelineTask:
        """Run when the upstream tasks end, even if they failed (kfp); inputs read from an upstream
        task need a default, which the task gets when that task produced nothing."""
        spec_inputs = {i.name: i for i in self.component_spec.inputs}
        for name, arg in self.arguments.items():
            reads_task = getattr(arg, "kind", None) in ("task_output", "collected", "one_of", "concat")
            if reads_task and spec_inputs[name].required:
                raise self.state.error(
                    f".ignore_upstream_failure() needs a default for {name!r}: it reads an upstream task's "
                    "output, which a failed task does not produce (kfp refuses this too)",
                    task=self.name,
                    argument=name,
                )
        self.ignore_failure = True
        return self

    # freezing ------------------------------------------------------------
    def to_spec(self) -> TaskSpec:
        return TaskSpec(
            name=self.name,
            component=self.component_key,
            display_name=self.display_name,
            arguments=self.arguments,
            after=tuple(self.after_tasks),
            group=self.group,
            resources=Resources(**self.resources),
            retry=self.retry,
            caching=self.caching,
            timeout_s=self.timeout_s,
            env=dict(self.env),
            node_selector=dict(self.node_selector),
            tolerations=tuple(self.tolerations),
            kubernetes=KubernetesSettings(**getattr(self, "kubernetes", {})),
            ignore_upstream_failure=self.ignore_failure,
            resource_args=dict(self.resource_args),
        )

    def __repr__(self) -> str:
        return f"<PipelineTask {self.name} ({self.component_spec.name})>"


__all__ = ["PipelineTask", "TaskOutputs"]
