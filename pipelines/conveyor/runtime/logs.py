"""Persist one attempt's log into the artifact store, so it outlives the process, pod and work dir.

Why here: the local scheduler and the pod entrypoint both end attempts; both call this one function
with the file the attempt wrote. The log becomes an artifact row of the task (type LOG_TYPE, output
name `log/attempt-N`), so the explorer finds it by the producer index like any other output. A log
that cannot be stored never fails the task: losing a log is better than losing a result.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from conveyor.stores.artifacts import ArtifactStore, ArtifactStoreError
from conveyor.stores.metadata import ArtifactRecord, MetadataStore, MetadataStoreError

LOG_TYPE = "conveyor.TaskLog"
LOG_PREFIX = "log/attempt-"


def log_output_name(attempt_number: int) -> str:
    return f"{LOG_PREFIX}{int(attempt_number)}"


def is_log(output_name: str | None) -> bool:
    return bool(output_name) and str(output_name).startswith(LOG_PREFIX)


def persist_log(store: MetadataStore, artifacts: ArtifactStore, run_id: str, task_id: str, attempt_number: int,
                path: str | os.PathLike[str]) -> ArtifactRecord | None:
    """Upload `path` (if it exists and is not empty) and record it; None when there is nothing to keep."""
    log = Path(path)
    with contextlib.suppress(OSError):
        if log.is_file() and log.stat().st_size > 0:
            try:
                stored = artifacts.put(log)
                return store.record_artifact(
                    stored.uri, stored.digest, stored.size, producer_run_id=run_id, producer_task_id=task_id,
                    output_name=log_output_name(attempt_number), type_name=LOG_TYPE,
                    metadata={"attempt": int(attempt_number)})
            except (ArtifactStoreError, MetadataStoreError):
                return None
    return None
