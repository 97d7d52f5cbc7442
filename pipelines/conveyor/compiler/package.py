"""kfp's `compiler.Compiler().compile(pipeline_func, package_path, pipeline_parameters=...)`.

The output is the Argo Workflow conveyor runs (YAML, or JSON when the path ends in `.json`); KFP's
own pipeline IR is not written. The compiler never imports the DSL: it asks the object for its IR
through the duck-typed `__conveyor_spec__(pipeline_parameters)` that pipelines and components have
(a component compiles as a one-task pipeline, as in kfp).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conveyor.ir import PipelineDefinitionError, PipelineSpec
from conveyor.profile import PROFILE_ENV, STACK_ENV, Profile, resolve_profile


def spec_of(pipeline_func: Any, pipeline_parameters: dict[str, Any] | None = None) -> PipelineSpec:
    build = getattr(pipeline_func, "__conveyor_spec__", None)
    if build is None:
        raise PipelineDefinitionError(
            f"Compiler().compile needs a @dsl.pipeline or a component, got {pipeline_func!r}")
    return build(pipeline_parameters)


class Compiler:
    """Compiles a pipeline (or component) into an Argo Workflow package file."""

    def compile(self, pipeline_func: Any, package_path: str, pipeline_name: str | None = None,
                pipeline_parameters: dict[str, Any] | None = None, type_check: bool = True,
                profile: str | Path | Profile | None = None, stack: str | None = None) -> None:
        """``profile``/``stack`` (or ``$CONVEYOR_PROFILE``/``$CONVEYOR_STACK``) name the registry of the
        task image the Workflow's pods run; without one, only components with their own image compile."""
        from conveyor.compiler.argo import CompileError, compile_workflow, to_yaml
        from conveyor.compiler.argo.images import needs_task_image

        spec = spec_of(pipeline_func, pipeline_parameters)
        if pipeline_name:
            spec = spec.model_copy(update={"name": pipeline_name})
        resolved = resolve_profile(profile, stack)
        if resolved is None and needs_task_image(spec):
            raise CompileError(
                f"pipeline {spec.name!r}: no task image: Compiler().compile names it from a profile's "
                f"image_registry; pass profile=PATH or stack=NAME, or set ${PROFILE_ENV} / ${STACK_ENV} "
                "(`conveyor image build` builds that image)")
        manifest = compile_workflow(spec.portable(), resolved)
        path = Path(package_path)
        text = json.dumps(manifest, indent=2) if path.suffix == ".json" else to_yaml(manifest)
        path.write_text(text)
