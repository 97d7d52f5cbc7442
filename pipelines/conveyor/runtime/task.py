"""The one-task entrypoint: a request file in, a result file out, an exit code that classifies.

The request (``protocol.messages.TaskRequest``) names the component (its IR), the resolved parameter values and the input
artifacts (URI + digest). The task materialises inputs from the artifact store (hard links
locally), calls the function, checks and stores every output with its digest, and writes the
result atomically. The scheduler trusts only a complete result file: a task killed half-way
leaves none, so nothing partial is ever treated as complete.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from conveyor.ir import workspace
from conveyor.ir.artifacts import Artifact, artifact_class, set_task_root
from conveyor.ir.errors import PermanentError
from conveyor.ir.importer import ImporterImplementation
from conveyor.ir.kubernetes import PvcImplementation
from conveyor.ir.spec import InputSpec, OutputSpec, PythonFunction
from conveyor.ir.types import PipelineTaskFinalStatus, value_matches
from conveyor.runtime.container import run_container
from conveyor.runtime.importer import run_importer
from conveyor.runtime.loader import resolve_function
from conveyor.runtime.outcome import EXIT_OK, classify_exception, exit_code_for
from conveyor.runtime.protocol.messages import TaskRequest, TaskResult
from conveyor.runtime.pvc import run_pvc
from conveyor.runtime.reentry import mark_task_process
from conveyor.stores.artifacts import (
    DigestMismatchError,
    LocalArtifactStore,
    digest_path,
    open_artifact_store,
)

METRIC_TYPES = ("Metrics", "ClassificationMetrics")


class TaskContext:
    """What one attempt works with: the request, its scratch directory and the artifact store."""

    def __init__(self, request: TaskRequest):
        self.request = request
        self.component = request.component
        self.workdir = Path(request.workdir)
        self.store = open_artifact_store(request.artifact_root)
        self.label = f"task {request.task_id!r} (component {self.component.name!r})"

    # -- inputs ------------------------------------------------------------------------------
    def _artifact_in(self, name: str, data: dict[str, Any], index: int | None = None) -> Artifact:
        art = Artifact.from_dict(data)
        dest = self.workdir / "inputs" / (name if index is None else f"{name}-{index}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        art.path = str(self.store.materialize(data["uri"], dest))
        if isinstance(self.store, LocalArtifactStore) and data.get("digest"):  # remote stores check on download
            got, _, _ = digest_path(art.path)
            if got != data["digest"]:
                raise DigestMismatchError(
                    f"{self.label}: input artifact {name!r} is corrupt: its bytes hash to {got}, not the recorded "
                    f"{data['digest']}; it was changed after it was stored. Delete {data['uri']} and rerun")
        return art

    def _input_value(self, spec: InputSpec) -> Any:
        params, arts = self.request.parameters, self.request.artifacts
        if spec.style == "final_status":
            return PipelineTaskFinalStatus.from_dict(params[spec.name])
        if spec.kind == "artifact":
            data = arts[spec.name]
            if isinstance(data, list):
                items = [self._artifact_in(spec.name, d, i) for i, d in enumerate(data)]
                return [a.path for a in items] if spec.style == "path" else items
            art = self._artifact_in(spec.name, data)
            return art.path if spec.style == "path" else art
        try:
            value = workspace.resolve(params[spec.name], self.request.workspace, f"{self.label} input {spec.name!r}")
        except ValueError as exc:
            raise PermanentError(str(exc)) from None
        if spec.style == "path":  # InputPath(str): kfp hands the value over in a file
            target = self.workdir / "inputs" / spec.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(value if isinstance(value, str) else json.dumps(value))
            return str(target)
        return value

    def kwargs(self, outputs: dict[str, Any]) -> dict[str, Any]:
        params, arts = self.request.parameters, self.request.artifacts
        kwargs: dict[str, Any] = {}
        for spec in self.component.inputs:
            if spec.name in params or spec.name in arts:
                kwargs[spec.name] = self._input_value(spec)
            elif spec.required:
                raise PermanentError(f"{self.label}: required input {spec.name!r} was not provided")
        embedded = self.component.embedded
        if embedded is not None:  # EmbeddedInput[T]: the component's own asset, unpacked for this attempt
            path = str(embedded.unpack(self.workdir / "embedded"))
            for name, type_name in embedded.inputs.items():
                kwargs[name] = artifact_class(type_name)(name=name, uri=path, path=path)
        for spec in self.component.outputs:
            if spec.style not in ("artifact", "path"):
                continue
            path = self.workdir / "outputs" / spec.name
            path.parent.mkdir(parents=True, exist_ok=True)
            if spec.kind == "artifact":
                obj = artifact_class(spec.type)(name=spec.name, path=str(path))
                outputs[spec.name] = obj
                kwargs[spec.name] = obj if spec.style == "artifact" else str(path)
            else:
                outputs[spec.name] = str(path)
                kwargs[spec.name] = str(path)
        return kwargs

    # -- outputs -----------------------------------------------------------------------------
    def _parameter_out(self, spec: OutputSpec, value: Any) -> Any:
        if spec.type == "float" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not value_matches(spec.type, value):
            raise PermanentError(
                f"{self.label}: output {spec.name!r} must be {spec.type}, got {type(value).__name__} {value!r:.80}")
        if isinstance(value, tuple):
            value = list(value)
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise PermanentError(f"{self.label}: output {spec.name!r} is not JSON-serialisable: {exc}") from None
        return value

    def _read_path_parameter(self, spec: OutputSpec, path: str) -> Any:
        if not os.path.exists(path):
            raise PermanentError(f"{self.label}: OutputPath {spec.name!r} was not written to {path}")
        text = Path(path).read_text()
        if spec.type == "str":
            return text
        try:  # kfp reads True/False in a bool file too
            return json.loads(text.strip().lower() if spec.type == "bool" else text)
        except json.JSONDecodeError:
            raise PermanentError(f"{self.label}: OutputPath {spec.name!r} holds {text[:60]!r}, not a {spec.type}") from None

    def _store_artifact(self, spec: OutputSpec, art: Artifact | str) -> dict[str, Any]:
        path = art.path if isinstance(art, Artifact) else art
        metadata = dict(art.metadata) if isinstance(art, Artifact) else {}
        if not os.path.exists(path):
            if spec.type not in METRIC_TYPES:
                raise PermanentError(f"{self.label}: output artifact {spec.name!r} was not written to {path}")
            Path(path).write_text(json.dumps(metadata, sort_keys=True))
        stored = self.store.put(path)
        record = {"type": spec.type, "name": spec.name, "uri": stored.uri, "digest": stored.digest,
                  "size": stored.size, "metadata": metadata}
        if getattr(art, "source_uri", None):  # an imported artifact: consumers see the URI it came from
            record["source_uri"] = art.source_uri  # type: ignore[union-attr]
        return record

    def _returned_artifacts(self, spec: OutputSpec, returned: Any) -> Any:
        if not isinstance(returned, Artifact):
            raise PermanentError(f"{self.label}: the function must return a {spec.type} "
                                 f"(e.g. {spec.type}(uri=dsl.get_uri())), got {returned!r:.80}")
        return self._store_artifact(spec, returned)

    def collect(self, returned: Any, outputs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        params: dict[str, Any] = {}
        arts: dict[str, Any] = {}
        fields = [s.name for s in self.component.outputs if s.style == "return_field"]
        if fields and isinstance(returned, tuple | list) and len(returned) != len(fields):
            raise PermanentError(f"{self.label}: the NamedTuple return has fields {fields}, but the function "
                                 f"returned {len(returned)} values")
        for spec in self.component.outputs:
            if spec.style == "return" and spec.kind == "artifact":  # kfp's pythonic artifact return
                arts[spec.name] = self._returned_artifacts(spec, returned)
            elif spec.style == "return":
                params[spec.name] = self._parameter_out(spec, returned)
            elif spec.style == "return_field":  # kfp matches fields by position: a plain tuple works
                if isinstance(returned, tuple | list):
                    value = returned[fields.index(spec.name)]
                elif hasattr(returned, spec.name):
                    value = getattr(returned, spec.name)
                else:
                    raise PermanentError(f"{self.label}: the returned value has no field {spec.name!r}")
                params[spec.name] = self._parameter_out(spec, value)
            elif spec.kind == "artifact":
                arts[spec.name] = self._store_artifact(spec, outputs[spec.name])
            else:
                params[spec.name] = self._parameter_out(spec, self._read_path_parameter(spec, outputs[spec.name]))
        return params, arts


def execute(request: TaskRequest) -> tuple[int, TaskResult]:
    """Run the task in this process; return (exit code, result). Never raises."""
    started = time.time()
    mark_task_process()  # before the user's module is imported: a task never starts a run
    try:
        ctx = TaskContext(request)
        impl = ctx.component.implementation
        func = resolve_function(impl) if isinstance(impl, PythonFunction) else None
        outputs: dict[str, Any] = {}
        kwargs = ctx.kwargs(outputs)
        (ctx.workdir / "outputs").mkdir(parents=True, exist_ok=True)
        set_task_root(str(ctx.workdir / "outputs"))
        try:
            if func is not None:
                returned = func(**kwargs)
            elif isinstance(impl, ImporterImplementation):
                returned = run_importer(ctx.component, request.parameters, outputs, request.workspace)
            elif isinstance(impl, PvcImplementation):
                returned = run_pvc(ctx.component, request.parameters, outputs)
            else:
                returned = run_container(ctx.component, kwargs, outputs, request.model_dump(mode="json"))
        finally:
            set_task_root(None)
        params, arts = ctx.collect(returned, outputs)
        return EXIT_OK, TaskResult(status="succeeded", parameters=params, artifacts=arts, started_at=started,
                                   ended_at=time.time())
    except BaseException as exc:  # noqa: BLE001 - every failure must be classified and reported
        failure = classify_exception(exc)
        message = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
        return exit_code_for(failure), TaskResult(
            status="failed", failure_class=failure, error=message[:4000], traceback=traceback.format_exc()[-8000:],
            started_at=started, ended_at=time.time())


def main(request_path: str) -> int:
    request = TaskRequest.read(request_path)
    code, result = execute(request)
    result.write_atomic(request.result)
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
