"""`@dsl.component`: wrap a Python function as a reusable, cacheable component.

The signature is read at decoration time (so a bad annotation fails at
import, like kfp); the source and project-dependency digests are computed on
first use, when every helper the module defines below the component exists.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from conveyor.dsl.bind import bind_arguments
from conveyor.dsl.context import current_state
from conveyor.dsl.signature import embedded_inputs, read_signature
from conveyor.dsl.source import deps_digest, function_source, sha256
from conveyor.dsl.task import PipelineTask
from conveyor.ir import ComponentSpec, PipelineDefinitionError, PythonFunction
from conveyor.ir.embedded import EmbeddedArtifact


class ComponentCalledOutsidePipelineError(PipelineDefinitionError, RuntimeError):
    """A component was called with no pipeline being built (kfp raises a RuntimeError here too)."""


def task_base_name(name: str) -> str:
    """kfp's task naming: `train_model` → `train-model`."""
    return name.replace("_", "-").lower()


def _embedded(func: Callable[..., Any], name: str, path: str | None) -> EmbeddedArtifact | None:
    """kfp's `embedded_artifact_path`, packed now (as kfp does), for the `EmbeddedInput[T]` parameters."""
    inputs = embedded_inputs(func, name)
    if path is None:
        if inputs:
            raise PipelineDefinitionError(
                f"component {name!r}: {sorted(inputs)} annotated dsl.EmbeddedInput[...] need "
                "@dsl.component(embedded_artifact_path=FILE_OR_FOLDER) to say what to embed")
        return None
    try:
        return EmbeddedArtifact.pack(path, inputs)
    except ValueError as exc:
        raise PipelineDefinitionError(f"component {name!r}: {exc}") from None


class PythonComponent:
    """A component made from a Python function; call it inside a pipeline to add a task."""

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        base_image: str | None = None,
        packages_to_install: list[str] | None = None,
        cache_output_for_seconds: float | None = None,
        cache_version: str | None = None,
        side_effects: bool = False,
        embedded_artifact_path: str | None = None,
    ) -> None:
        if not inspect.isfunction(func):
            raise TypeError(f"@dsl.component decorates a function, got {func!r}")
        functools.update_wrapper(self, func)
        self.python_func = func
        self.name = func.__name__
        if cache_output_for_seconds is not None and (
            isinstance(cache_output_for_seconds, bool)
            or not isinstance(cache_output_for_seconds, int | float)
            or cache_output_for_seconds < 0
        ):
            raise PipelineDefinitionError(
                f"component {self.name!r}: cache_output_for_seconds must be a number >= 0 or None, "
                f"got {cache_output_for_seconds!r}"
            )
        self.inputs, self.outputs = read_signature(func, self.name)
        self.embedded = _embedded(func, self.name, embedded_artifact_path)
        self.description = inspect.getdoc(func)
        self.base_image = base_image
        self.packages_to_install = tuple(packages_to_install or ())
        self.cache_output_for_seconds = cache_output_for_seconds
        self.cache_version = cache_version
        if not isinstance(side_effects, bool):
            raise PipelineDefinitionError(
                f"component {self.name!r}: side_effects must be True or False, got {side_effects!r}")
        self.side_effects = side_effects
        self._spec: ComponentSpec | None = None

    @property
    def component_spec(self) -> ComponentSpec:
        """The IR of this component (built once, on first access)."""
        if self._spec is None:
            func = self.python_func
            source = function_source(func)
            try:
                module_file = inspect.getsourcefile(func)
            except TypeError:
                module_file = None
            self._spec = ComponentSpec(
                name=self.name,
                description=self.description,
                inputs=self.inputs,
                outputs=self.outputs,
                implementation=PythonFunction(
                    module_file=module_file,
                    module=func.__module__,
                    function=func.__name__,
                    source=source,
                    source_digest=sha256(source),
                    deps_digest=deps_digest(func),
                ),
                base_image=self.base_image,
                packages_to_install=self.packages_to_install,
                cache_version=self.cache_version,
                cache_ttl_seconds=self.cache_output_for_seconds,
                side_effects=self.side_effects,
                embedded=self.embedded,
            )
        return self._spec

    def __call__(self, *args: Any, **kwargs: Any) -> PipelineTask:
        state = current_state()
        if state is None:
            raise ComponentCalledOutsidePipelineError(
                f"component {self.name!r} was called outside a @dsl.pipeline function. Call it inside a "
                f"pipeline and run that with conveyor.run(...), or call {self.name}.python_func(...) to run "
                "the plain Python function"
            )
        name = state.task_name(task_base_name(self.name))
        if args:
            raise state.error(
                f"components take keyword arguments only, e.g. {self.name}(x=...); got {len(args)} positional",
                task=name,
            )
        spec = self.component_spec
        arguments = bind_arguments(state, name, spec.inputs, kwargs)
        task = PipelineTask(state, name, state.add_component(spec), spec, arguments)
        state.add_task(task)
        return task

    def as_pipeline(self) -> Any:
        """This component as a one-task pipeline (what kfp compiles when given a component)."""
        from conveyor.dsl.container import one_task_pipeline

        return one_task_pipeline(self)

    def __conveyor_spec__(self, pipeline_parameters: dict[str, Any] | None = None) -> Any:
        """The IR `conveyor.compiler.Compiler` compiles (duck-typed: the compiler never imports the DSL)."""
        return self.as_pipeline().__conveyor_spec__(pipeline_parameters)

    def __repr__(self) -> str:
        return f"<component {self.name}>"


def component(
    func: Callable[..., Any] | None = None,
    *,
    base_image: str | None = None,
    packages_to_install: list[str] | None = None,
    cache_output_for_seconds: float | None = None,
    cache_version: str | None = None,
    side_effects: bool = False,
    target_image: str | None = None,
    pip_index_urls: list[str] | None = None,
    output_component_file: str | None = None,
    install_kfp_package: bool = True,
    kfp_package_path: str | None = None,
    pip_trusted_hosts: list[str] | None = None,
    use_venv: bool = False,
    additional_funcs: list[Callable[..., Any]] | None = None,
    embedded_artifact_path: str | None = None,
    task_config_passthroughs: list[Any] | None = None,
) -> Any:
    """Decorator, bare or with arguments, as in kfp.

    conveyor adds `cache_output_for_seconds` (per-component cache TTL),
    `cache_version` (bump to invalidate) and `side_effects=True` (a component that acts on the
    world - deploys, pushes, notifies - runs in every run and is never a cache hit). kfp's
    packaging options (`target_image`, `pip_index_urls`, `install_kfp_package`, ...) are
    accepted so kfp files run unchanged; they have no effect here.
    """

    def wrap(f: Callable[..., Any]) -> PythonComponent:
        return PythonComponent(
            f,
            base_image=base_image,
            packages_to_install=packages_to_install,
            cache_output_for_seconds=cache_output_for_seconds,
            cache_version=cache_version,
            side_effects=side_effects,
            embedded_artifact_path=embedded_artifact_path,
        )

    return wrap(func) if func is not None else wrap


def notebook_component(func: Callable[..., Any] | None = None, *, notebook_path: str = "", **_: Any) -> Any:
    """kfp's `@dsl.notebook_component` is refused when the component is defined: running a notebook
    needs a Jupyter kernel in the task environment, which conveyor does not provision."""

    def refuse(f: Callable[..., Any]) -> Any:
        raise PipelineDefinitionError(
            f"component {getattr(f, '__name__', f)!r}: dsl.notebook_component is not supported by conveyor (it "
            "needs a Jupyter kernel and nbclient in the task). Write a @dsl.component with "
            "packages_to_install=['nbclient', 'ipykernel'] and embedded_artifact_path="
            f"{notebook_path or 'NOTEBOOK.ipynb'!r} that executes the notebook from a dsl.EmbeddedInput, "
            "or convert it with `jupyter nbconvert --to script` and call the code from a @dsl.component")

    return refuse(func) if func is not None else refuse
