"""The objects `conveyor.client.Client` returns, shaped like kfp 2.x's (`kfp_server_api` V2beta1*).

KFP users read attributes (`run.state`, `run.run_id`, `run.finished_at`, `experiment.experiment_id`),
so these are plain dataclasses with the same attribute names and KFP's state strings, built from
conveyor's metadata records. `to_dict()` mirrors the kfp models' method.
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass, field
from typing import Any

# conveyor run status -> KFP V2beta1RuntimeState
KFP_STATES = {"queued": "PENDING", "running": "RUNNING", "succeeded": "SUCCEEDED", "failed": "FAILED",
              "cancelled": "CANCELED", "cached": "SKIPPED", "skipped": "SKIPPED", "pending": "PENDING"}
FINISHED_STATES = frozenset({"SUCCEEDED", "FAILED", "SKIPPED", "CANCELED"})
LABEL_DISPLAY_NAME = "kfp.display_name"
LABEL_EXPERIMENT = "kfp.experiment_id"
LABEL_SERVICE_ACCOUNT = "kfp.service_account"


def kfp_state(status: str | None) -> str:
    return KFP_STATES.get(status or "", "RUNTIME_STATE_UNSPECIFIED")


def timestamp(seconds: float | None) -> datetime.datetime | None:
    """kfp returns timezone-aware UTC datetimes."""
    return None if seconds is None else datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)


class _Model:
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]


@dataclass
class RunError(_Model):
    """kfp's `GooglerpcStatus`: `run.error.message`."""

    message: str
    code: int = 2  # UNKNOWN


@dataclass
class RuntimeConfig(_Model):
    parameters: dict[str, Any] = field(default_factory=dict)
    pipeline_root: str | None = None


@dataclass
class TaskDetail(_Model):
    task_id: str
    display_name: str
    state: str
    create_time: datetime.datetime | None = None
    start_time: datetime.datetime | None = None
    end_time: datetime.datetime | None = None
    error: RunError | None = None


@dataclass
class RunDetails(_Model):
    task_details: list[TaskDetail] = field(default_factory=list)


@dataclass
class Run(_Model):
    """kfp's `V2beta1Run`. `pipeline_spec` is conveyor's IR as a dict (not KFP's IR)."""

    run_id: str
    display_name: str
    state: str
    experiment_id: str | None = None
    description: str | None = None
    pipeline_spec: dict[str, Any] | None = None
    runtime_config: RuntimeConfig = field(default_factory=RuntimeConfig)
    service_account: str | None = None
    created_at: datetime.datetime | None = None
    scheduled_at: datetime.datetime | None = None
    finished_at: datetime.datetime | None = None
    error: RunError | None = None
    run_details: RunDetails = field(default_factory=RunDetails)
    storage_state: str = "AVAILABLE"
    recurring_run_id: str | None = None
    pipeline_version_id: str | None = None
    outputs: dict[str, Any] = field(default_factory=dict)  # conveyor's addition: the pipeline's outputs


@dataclass
class ListRunsResponse(_Model):
    runs: list[Run] | None
    total_size: int
    next_page_token: str | None = None


@dataclass
class Experiment(_Model):
    """kfp's `V2beta1Experiment`."""

    experiment_id: str
    display_name: str
    description: str | None = None
    created_at: datetime.datetime | None = None
    namespace: str | None = None
    storage_state: str = "AVAILABLE"
    last_run_created_at: datetime.datetime | None = None


@dataclass
class ListExperimentsResponse(_Model):
    experiments: list[Experiment] | None
    total_size: int
    next_page_token: str | None = None


@dataclass
class RecurringRun(_Model):
    """kfp's `V2beta1RecurringRun`: an Argo CronWorkflow on the profile's cluster."""

    recurring_run_id: str
    display_name: str
    cron_schedule: str
    experiment_id: str | None = None
    description: str | None = None
    namespace: str | None = None
    max_concurrency: int = 1
    status: str = "ENABLED"
    created_at: datetime.datetime | None = None
    service_account: str | None = None
    manifest: dict[str, Any] = field(default_factory=dict)


def run_from_record(record: Any, tasks: list[Any] | None = None, *, pending: bool = False) -> Run:
    """A `Run` from a metadata `RunRecord` (and its `TaskRecord`s)."""
    import json

    labels = record.labels or {}
    details = [TaskDetail(t.task_id, t.task_name, kfp_state(t.status), start_time=timestamp(t.started_at),
                          end_time=timestamp(t.ended_at), error=RunError(t.error) if t.error else None)
               for t in tasks or []]
    state = kfp_state(record.status)
    return Run(
        run_id=record.run_id, display_name=labels.get(LABEL_DISPLAY_NAME) or record.pipeline_name, state=state,
        experiment_id=labels.get(LABEL_EXPERIMENT), pipeline_spec=json.loads(record.spec_json),
        runtime_config=RuntimeConfig(parameters=dict(record.arguments or {})),
        service_account=labels.get(LABEL_SERVICE_ACCOUNT), created_at=timestamp(record.created_at),
        scheduled_at=timestamp(record.started_at or record.created_at),
        finished_at=timestamp(record.ended_at) if state in FINISHED_STATES else None,
        error=RunError(record.error) if record.error else None, run_details=RunDetails(details),
        outputs=dict(record.outputs or {}),
    )


class RunPipelineResult:
    """What `create_run_from_pipeline_func`/`_package` return, as in kfp: `.run_id`, `.run_info`,
    `.wait_for_run_completion(timeout)`."""

    def __init__(self, client: Any, run_info: Run) -> None:
        self._client = client
        self.run_info = run_info
        self.run_id = run_info.run_id

    def wait_for_run_completion(self, timeout: float | datetime.timedelta | None = None) -> Run:
        return self._client.wait_for_run_completion(self.run_id, timeout)

    def __repr__(self) -> str:
        return f"RunPipelineResult(run_id={self.run_id})"
