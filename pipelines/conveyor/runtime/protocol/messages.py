"""The typed request a task process reads and the typed result it writes.

They replace the bare ``request.json`` / ``result.json`` dicts. The local scheduler writes a
:class:`TaskRequest` file per attempt and reads the :class:`TaskResult` file back; the pod builds
the same request in memory and gets the same result from ``conveyor.runtime.task.execute``.

- ``TaskRequest``: run and task ids, the component IR, resolved ``parameters`` (values) and
  ``artifacts`` (stored dicts with uri + digest, or lists of them for collected outputs), the
  artifact root, the attempt's scratch ``workdir``, where to write the ``result`` and the run's
  ``workspace`` folder, if it has one.
- ``TaskResult``: ``status`` succeeded | failed; on success the output ``parameters`` and
  ``artifacts``; on failure ``failure_class``, ``error`` and ``traceback``. ``outputs`` is the
  ``{"parameters", "artifacts"}`` dict that the metadata store and the cache record.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from conveyor.ir.spec import ComponentSpec

FailureClassName = Literal["transient", "permanent", "preempted", "timeout", "killed"]


class TaskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: str
    task_id: str
    component: ComponentSpec
    parameters: dict[str, Any] = Field(default_factory=dict)
    artifacts: dict[str, Any] = Field(default_factory=dict)
    artifact_root: str
    workdir: str
    result: str
    workspace: str | None = None  # the run's shared folder (dsl.PipelineConfig), None without one

    def write(self, path: str | Path) -> None:
        Path(path).write_text(self.model_dump_json())

    @classmethod
    def read(cls, path: str | Path) -> TaskRequest:
        return cls.model_validate_json(Path(path).read_text())


class TaskResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["succeeded", "failed"]
    parameters: dict[str, Any] = Field(default_factory=dict)
    artifacts: dict[str, dict[str, Any]] = Field(default_factory=dict)
    failure_class: FailureClassName | None = None
    error: str | None = None
    traceback: str | None = None
    started_at: float | None = None
    ended_at: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @property
    def outputs(self) -> dict[str, Any]:
        return {"parameters": dict(self.parameters), "artifacts": dict(self.artifacts)}

    def write_atomic(self, path: str | Path) -> None:
        """Write-then-rename, so a reader sees the whole file or none (a task killed mid-write leaves none).

        No fsync: the only reader is the scheduler, right after this process exits, through the same
        page cache. After an OS crash the scheduler is gone too and `resume` trusts the metadata store,
        never an old attempt's result file.
        """
        path = Path(path)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(self.model_dump_json())
        os.replace(tmp, path)

    @classmethod
    def read(cls, path: str | Path) -> TaskResult | None:
        """The result file, or None when the process left none (killed, or crashed before writing)."""
        try:
            return cls.model_validate_json(Path(path).read_text())
        except FileNotFoundError:
            return None
