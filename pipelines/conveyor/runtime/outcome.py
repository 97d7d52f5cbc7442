"""How a task attempt ended, and whether another attempt can help.

One table serves the local scheduler, the pod entrypoint and the Argo retryStrategy: a failure
is *transient* (retry with backoff) or *permanent* (fail fast, never retried). Users decide with
`PermanentError` / `TransientError`; everything else follows the rules below.
"""

from __future__ import annotations

import signal
from typing import Literal

from conveyor.ir.errors import PermanentError, PipelineDefinitionError, TransientError
from conveyor.stores.artifacts.api import DigestMismatchError

FailureClass = Literal["transient", "permanent", "preempted", "timeout", "killed"]

EXIT_OK = 0
EXIT_ERROR = 1  # an unclassified exception: retried like a transient failure
EXIT_PERMANENT = 3  # never retried, also by Argo's retryStrategy expression
EXIT_TRANSIENT = 4
EXIT_PREEMPTED = 143  # 128 + SIGTERM, what a pod's SIGTERM handler exits with

RETRYABLE: frozenset[str] = frozenset({"transient", "preempted", "timeout", "killed"})

# Errors in the code or the data: running the same thing again gives the same error.
PERMANENT_EXCEPTIONS: tuple[type[BaseException], ...] = (
    PermanentError, PipelineDefinitionError, TypeError, ValueError, KeyError, IndexError,
    AttributeError, NameError, ImportError, SyntaxError, AssertionError, NotImplementedError,
    ZeroDivisionError, DigestMismatchError,  # corrupt stored bytes read the same on every try
)


def classify_exception(exc: BaseException) -> FailureClass:
    if isinstance(exc, TransientError):
        return "transient"
    if isinstance(exc, PERMANENT_EXCEPTIONS):
        return "permanent"
    # OSError (network, disk), TimeoutError, MemoryError, RuntimeError from libraries: worth another try.
    return "transient"


def exit_code_for(failure: FailureClass) -> int:
    return EXIT_PERMANENT if failure == "permanent" else EXIT_TRANSIENT


def classify_exit(code: int, sig: int | None, timed_out: bool = False) -> FailureClass | None:
    """Failure class of a process that ended with `code` (negative: killed by signal `sig`)."""
    if timed_out:
        return "timeout"
    if code == EXIT_OK and sig is None:
        return None
    if code == EXIT_PERMANENT:
        return "permanent"
    if sig == signal.SIGTERM or code == EXIT_PREEMPTED:
        return "preempted"
    if sig is not None:
        return "killed"
    return "transient"


def describe_failure(result: dict | None, code: int, sig: int | None, timed_out: bool,
                     timeout_s: float | None) -> tuple[FailureClass, str]:
    """The class and a one-line message for a failed attempt: the task's own verdict when it wrote
    one, else what the exit says (timeout, signal, or a crash before any result)."""
    failure = classify_exit(code, sig, timed_out) or "transient"
    if result and result.get("status") == "failed" and not timed_out:
        return result["failure_class"], result["error"]
    if timed_out:
        return failure, f"timed out after {timeout_s or 0:g} s"
    if sig:
        return failure, f"process killed by signal {sig}" + (" (preempted)" if failure == "preempted" else "")
    return failure, f"process exited with code {code} and no result"
