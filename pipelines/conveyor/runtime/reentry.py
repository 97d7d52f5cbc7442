"""Who may start a run: never a task process, and never a file while conveyor imports it.

Why: a script that ends in `conveyor.run(p)` is imported again wherever its components run (the
fork server, an isolated venv, a pod) and by `conveyor run/compile script.py`. If that import
started a run, each task would start a nested run and wait on the outer run's cache lease for an
hour. So:

- While conveyor imports a pipeline file (`importing_file()`), `conveyor.run` raises `RunSkipped`
  and the loader stops the import there, keeping everything defined above the call: the code
  after it is the script's main part, which only `python script.py` should run.
- In a task process (`mark_task_process()`, set before the user's function is resolved and
  inherited by anything it spawns), `conveyor.run` refuses with `NestedRunError`.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

from conveyor.ir.errors import PermanentError

TASK_PROCESS_ENV = "CONVEYOR_TASK_PROCESS"
_state = threading.local()


class RunSkipped(BaseException):  # noqa: N818 - a control-flow signal, like SystemExit, not an error
    """Raised by `conveyor.run` while conveyor imports the file that calls it; the loader catches it.

    A BaseException so that a user's `except Exception` around the call does not swallow it."""


class NestedRunError(PermanentError):
    """`conveyor.run` was called inside a task process; a retry would fail the same way."""


@contextlib.contextmanager
def importing_file() -> Iterator[None]:
    depth = getattr(_state, "depth", 0)
    _state.depth = depth + 1
    try:
        yield
    finally:
        _state.depth = depth


def mark_task_process() -> None:
    os.environ[TASK_PROCESS_ENV] = "1"


def check_may_start_run() -> None:
    """Raise RunSkipped or NestedRunError if a run must not start here (see the module docstring)."""
    if getattr(_state, "depth", 0):
        raise RunSkipped
    if os.environ.get(TASK_PROCESS_ENV) == "1":
        raise NestedRunError(
            "conveyor.run() was called inside a task process; tasks cannot start runs (the task would wait "
            "on its own run). Call it from a script's top level or under `if __name__ == \"__main__\":`, "
            "and use a sub-pipeline to compose pipelines")
