"""Resolve a container component's placeholders into the argv it runs: the one place this happens.

Both a local task and an Argo pod call `resolve_command` from `conveyor.runtime.container`, so
``{{$.pipeline_task_name}}`` or an ``IfPresent`` means the same thing in both. Values follow kfp's
local runner: strings raw, everything else JSON; an ``IfPresent`` input counts as present when the
task received a non-null value for it (a default counts, as in kfp).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from conveyor.ir.artifacts import Artifact
from conveyor.ir.container import CommandPart, Concat, IfPresent, Reference, split_text
from conveyor.ir.errors import PermanentError
from conveyor.ir.types import PipelineTaskFinalStatus


def text_of(value: Any) -> str:
    if isinstance(value, PipelineTaskFinalStatus):
        value = value.to_kfp()
    return value if isinstance(value, str) else json.dumps(value)


@dataclass
class PlaceholderContext:
    """What placeholders can refer to in one task attempt."""

    component: str
    inputs: dict[str, Any]  # parameter values; Artifact (or list) for artifacts; a path for InputPath
    outputs: dict[str, Any]  # Artifact or a path, per output
    job_name: str = ""
    job_id: str = ""
    task_name: str = ""
    task_id: str = ""
    pipeline_root: str = ""
    workspace: str | None = None
    create_time: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def present(self, name: str) -> bool:
        return self.inputs.get(name) is not None

    def _fail(self, ref: Reference, why: str) -> PermanentError:
        return PermanentError(f"container component {self.component!r}: placeholder {ref.text!r}: {why}")

    def value(self, ref: Reference) -> str:
        what = ref.what
        if what in ("job_name", "job_resource_name"):
            return self.job_name
        if what == "job_id":
            return self.job_id
        if what == "task_name":
            return self.task_name
        if what == "task_id":
            return self.task_id
        if what == "pipeline_root":
            return self.pipeline_root
        if what in ("create_time", "schedule_time"):
            return self.create_time
        if what == "workspace":
            if not self.workspace:
                raise self._fail(ref, "no workspace is configured for this run; set "
                                      "dsl.PipelineConfig(workspace=...) on the pipeline")
            return self.workspace
        side = self.inputs if what.startswith("input_") else self.outputs
        if ref.name not in side or side[ref.name] is None:
            raise self._fail(ref, f"{ref.name!r} was not provided; wrap it in IfPresentPlaceholder if it is "
                                  "optional")
        return self._io_value(ref, side[ref.name])

    def _io_value(self, ref: Reference, obj: Any) -> str:
        field_ = ref.what.split("_", 1)[1]
        if field_ in ("value", "file"):
            return text_of(obj)
        if field_ == "list":
            items = obj if isinstance(obj, list) else [obj]
            return json.dumps([a.path if isinstance(a, Artifact) else a for a in items])
        if not isinstance(obj, Artifact):  # InputPath / OutputPath: the file is all there is
            return obj if field_ in ("path", "uri") else "{}"
        if field_ == "path":
            return obj.path
        if field_ == "uri":  # an output's bytes are stored after the command ends: its uri is its local path
            return obj.uri if ref.what.startswith("input_") and obj.uri else obj.path
        if ref.key is not None:
            return text_of(obj.metadata.get(ref.key))
        return json.dumps(obj.metadata, sort_keys=True)


def resolve_string(text: str, ctx: PlaceholderContext) -> str:
    return "".join(p if isinstance(p, str) else ctx.value(p) for p in split_text(text))


def _resolve(part: CommandPart, ctx: PlaceholderContext) -> list[str]:
    if isinstance(part, str):
        return [resolve_string(part, ctx)]
    if isinstance(part, Concat):
        return ["".join(s for item in part.items for s in _resolve(item, ctx))]
    assert isinstance(part, IfPresent)
    branch = part.then if ctx.present(part.input_name) else part.otherwise
    return resolve_command(branch, ctx)


def resolve_command(parts: Iterable[CommandPart], ctx: PlaceholderContext) -> list[str]:
    """The argv: each part resolved; an IfPresent contributes zero or more arguments."""
    return [s for part in parts for s in _resolve(part, ctx)]
