"""``python -m conveyor.runtime.pod``: one task attempt inside an Argo pod.

Implements the argv contract documented in ``conveyor.compiler.argo`` (``--spec --task --run-id
--outputs-dir --input NAME=TEXT --loop-index LOOP=I --omitted NAME=BOOL --no-cache --workflow-failures``) with the same
one-task runtime as local mode (``conveyor.runtime.task.execute``):

1. decode the spec (embedded ``env:CONVEYOR_SPEC`` or a URI in the artifact store);
2. turn the text inputs back into typed values and artifact dicts (uri + digest), exactly as the
   local scheduler resolves them, so the cache key is identical in both places;
3. look the key up in the metadata store (Postgres); a hit whose artifacts still verify writes
   the outputs without running anything; a miss takes the compute lease;
4. run the function, upload outputs with digests (multipart/parallel, see the S3/GCS stores),
   record attempt, task, artifacts, lineage, metrics and the cache entry;
5. write each output as text into ``--outputs-dir`` for Argo, push metrics to the Pushgateway.

Environment: CONVEYOR_METADATA_URL (a secret: never printed; errors show it redacted),
CONVEYOR_ARTIFACT_ROOT, optional CONVEYOR_PUSHGATEWAY_URL, CONVEYOR_SPEC.

Exit codes (``conveyor.runtime.outcome``): 0 ok or cached, 3 permanent (bad input, user
``PermanentError``; never retried), 143 preempted (SIGTERM: the attempt is recorded as
``preempted`` and Argo's retryStrategy treats it as transient), 4 / others transient.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Mapping, Sequence

from conveyor.runtime.outcome import EXIT_PERMANENT, EXIT_PREEMPTED, EXIT_TRANSIENT, classify_exception
from conveyor.runtime.pod.argv import PodArgs, PodUsageError, load_spec, parse_args
from conveyor.runtime.pod.attempt import PodAttempt, Preempted, Signals, log
from conveyor.runtime.pod.inputs import artifact_ref, decode_artifact, instance_id, text_form

# How long a pod waits for the metadata database to answer before its attempt fails: a node busy
# starting a loop's pods can time out a connect (seen with a 200-item ParallelFor on 2 cores), and
# an attempt that gives up then fails a run whose task has no retries.
REACH_DEADLINE_S = 120.0


def _describe(exc: BaseException) -> str:
    from conveyor.notify import redact

    return redact(f"{type(exc).__name__}: {exc}")[:2000]


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run one attempt; returns the exit code (the process exits with it under ``-m``)."""
    environ = os.environ if environ is None else environ
    signals = Signals()
    previous = signal.signal(signal.SIGTERM, signals.handler)
    store = None
    try:
        with signals.interruptible():
            args = parse_args(sys.argv[1:] if argv is None else argv)
            root = environ.get("CONVEYOR_ARTIFACT_ROOT")
            if not root:
                raise PodUsageError("CONVEYOR_ARTIFACT_ROOT is not set")
            url = environ.get("CONVEYOR_METADATA_URL")
            if not url:
                raise PodUsageError("CONVEYOR_METADATA_URL is not set (the compiler passes it from a Secret)")
            spec = load_spec(args.spec, environ, root)
            if args.task not in spec.tasks:
                raise PodUsageError(f"task {args.task!r} is not in pipeline {spec.name!r}")
            from conveyor.stores.artifacts import open_artifact_store
            from conveyor.stores.metadata import open_metadata_store

            artifacts = open_artifact_store(root)
            store = open_metadata_store(url, reach_deadline_s=REACH_DEADLINE_S)
        return PodAttempt(spec, args, store, artifacts, root, signals, environ).run()
    except Preempted:
        log("preempted (SIGTERM) before the task started; Argo retries it")
        return EXIT_PREEMPTED
    except BaseException as exc:  # noqa: BLE001 - every failure leaves with a classified exit code
        if isinstance(exc, SystemExit | KeyboardInterrupt):
            raise
        failure = classify_exception(exc)
        log(f"{failure} failure outside the task: {_describe(exc)}")
        return EXIT_PERMANENT if failure == "permanent" else EXIT_TRANSIENT
    finally:
        signal.signal(signal.SIGTERM, previous)
        if store is not None:
            store.close()


__all__ = ["PodArgs", "PodUsageError", "artifact_ref", "decode_artifact", "instance_id",
           "load_spec", "main", "parse_args", "text_form"]
