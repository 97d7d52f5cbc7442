"""kfp's `dsl.importer(artifact_uri, artifact_class, reimport, metadata)`: an existing object as an artifact.

The call adds one task named `importer` whose output `artifact` downstream tasks read like any other.
The URI may be a literal (a local path, `file://`, `s3://`, `gs://`), a pipeline parameter, a task
output or an f-string of them. Pipeline values inside `metadata` become extra inputs of the importer,
laid out as kfp's compiler does, and are filled in when the task runs.
"""

from __future__ import annotations

from typing import Any

from conveyor.dsl.bind import bind_arguments
from conveyor.dsl.channels import PipelineChannel
from conveyor.dsl.context import BuildState, current_state
from conveyor.dsl.formatted import formatted_arg
from conveyor.dsl.task import PipelineTask
from conveyor.ir import ComponentSpec, InputSpec, OutputSpec, PipelineDefinitionError
from conveyor.ir.artifacts import Artifact
from conveyor.ir.importer import METADATA_INPUT, OUTPUT, URI_INPUT, ImporterImplementation, input_placeholder
from conveyor.ir.placeholders import TOKEN, split, token
from conveyor.ir.types import PARAMETER_TYPES


class _Metadata:
    """Walks the metadata, swapping each pipeline value for a placeholder and an importer input (one
    input per distinct value, named `metadata`, `metadata-2`, ... in the order met, as kfp does)."""

    def __init__(self, state: BuildState, task: str) -> None:
        self.state, self.task = state, task
        self.inputs: list[InputSpec] = []
        self.arguments: dict[str, Any] = {}
        self.names: dict[str, str] = {}  # token text -> input name

    def _input_for(self, token: str, arg: Any, type_name: str) -> str:
        if token not in self.names:
            name = METADATA_INPUT if not self.names else f"{METADATA_INPUT}-{len(self.names) + 1}"
            self.names[token] = name
            self.inputs.append(InputSpec(name=name, kind="parameter", type=type_name))
            self.arguments[name] = arg
        return input_placeholder(self.names[token])

    def walk(self, value: Any) -> Any:
        if isinstance(value, PipelineChannel):
            if value.kind != "parameter":
                raise TypeError(f"dsl.importer metadata cannot hold the artifact {value!r}; pass a parameter")
            type_name = value.type if value.type in PARAMETER_TYPES else "str"
            return self._input_for(value.token(), value.to_arg(), type_name)
        if isinstance(value, dict):
            return {self.walk(k): self.walk(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.walk(v) for v in value]
        if isinstance(value, str) and TOKEN.search(value):  # an f-string: each value in it is an input
            concat = formatted_arg(self.state, value, self.task, METADATA_INPUT)
            out = []
            for piece, part in zip(split(value), concat.parts, strict=True):  # type: ignore[union-attr]
                if isinstance(piece, str):
                    out.append(piece)
                else:
                    type_name = piece.get("type") if piece.get("type") in PARAMETER_TYPES else "str"
                    out.append(self._input_for(token(**piece), part, type_name))
            return "".join(out)
        return value


def importer(
    artifact_uri: Any,
    artifact_class: type[Artifact],
    reimport: bool = False,
    metadata: dict[str, Any] | None = None,
    download_to_workspace: bool = False,
) -> PipelineTask:
    """Import the object at `artifact_uri` as an `artifact_class` (kfp's `dsl.importer`)."""
    state = current_state()
    if state is None:
        raise PipelineDefinitionError("dsl.importer(...) can only be called inside a @dsl.pipeline function")
    name = state.task_name("importer")
    if not (isinstance(artifact_class, type) and issubclass(artifact_class, Artifact)):
        raise state.error(f"artifact_class must be an artifact class such as dsl.Dataset, got {artifact_class!r}",
                          task=name, argument="artifact_class")
    if not isinstance(reimport, bool):
        raise state.error(f"reimport must be True or False, got {reimport!r}", task=name, argument="reimport")
    if isinstance(artifact_uri, PipelineChannel) and artifact_uri.kind != "parameter":
        raise state.error(f"artifact_uri must be a str or a str parameter, got the artifact {artifact_uri!r}",
                          task=name, argument="artifact_uri")
    if not isinstance(artifact_uri, PipelineChannel) and (not isinstance(artifact_uri, str) or not artifact_uri):
        raise state.error(f"artifact_uri must be a non-empty str or a pipeline value, got {artifact_uri!r}",
                          task=name, argument="artifact_uri")
    if metadata is not None and not isinstance(metadata, dict):
        raise state.error(f"metadata must be a dict, got {metadata!r}", task=name, argument="metadata")
    walker = _Metadata(state, name)
    try:
        resolved = walker.walk(dict(metadata or {}))
    except TypeError as exc:
        raise state.error(str(exc), task=name, argument="metadata") from None
    impl = ImporterImplementation(artifact_type=artifact_class.__name__, reimport=reimport, metadata=resolved,
                                  download_to_workspace=bool(download_to_workspace))
    spec = ComponentSpec(
        name="importer",
        inputs=(InputSpec(name=URI_INPUT, kind="parameter", type="str"), *walker.inputs),
        outputs=(OutputSpec(name=OUTPUT, kind="artifact", type=artifact_class.__name__, style="artifact"),),
        implementation=impl,
    )
    arguments = bind_arguments(state, name, spec.inputs[:1], {URI_INPUT: artifact_uri})
    arguments.update(walker.arguments)
    task = PipelineTask(state, name, state.add_component(spec), spec, arguments)
    if reimport:
        task.caching = False  # read the URI again each run (kfp registers a new artifact every time)
    state.add_task(task)
    return task

