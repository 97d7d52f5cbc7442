"""One attempt's log: captured the same way everywhere, persisted into the artifact store.

Why here: the local scheduler and the pod entrypoint both end attempts; both call :func:`persist_log`
with the file the attempt wrote, so a pod's task log is stored and recorded exactly like a local
one (same bytes, same row). Locally the fork server points the task process's fd 1 and 2 at
``log.txt``; a pod runs the task in its own process, so :func:`captured` does the same for the
span of the task and tees every byte on to the container log as well (``kubectl logs`` and
``submit --watch`` keep streaming it). The log becomes an artifact row of the task (type LOG_TYPE, output
name `log/attempt-N`), so the explorer finds it by the producer index like any other output. A log
that cannot be stored never fails the task: losing a log is better than losing a result.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
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


@contextlib.contextmanager
def captured(path: str | os.PathLike[str]) -> Iterator[None]:
    """Inside the block, fd 1 and 2 (and ``sys.stdout``/``sys.stderr``, line-buffered, as in a local
    task process) write to ``path``; a thread copies every byte on to the original stdout."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    saved_streams = sys.stdout, sys.stderr
    read_fd, write_fd = os.pipe()
    log = open(path, "ab", buffering=0)  # noqa: SIM115 - closed by the pump below

    def pump() -> None:
        with log:
            while chunk := os.read(read_fd, 65536):
                log.write(chunk)
                with contextlib.suppress(OSError):
                    os.write(saved_out, chunk)
        os.close(read_fd)

    thread = threading.Thread(target=pump, name="conveyor-task-log", daemon=True)
    thread.start()
    os.dup2(write_fd, 1)
    os.dup2(write_fd, 2)
    os.close(write_fd)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        sys.stdout, sys.stderr = saved_streams
        os.dup2(saved_out, 1)  # the last write ends of the pipe close here: the pump sees EOF
        os.dup2(saved_err, 2)
        os.close(saved_out)
        os.close(saved_err)
        thread.join(timeout=10)
