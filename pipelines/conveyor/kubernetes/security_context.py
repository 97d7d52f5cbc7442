"""kfp-kubernetes' `set_security_context`: the identity the task's container runs as.

On Argo: the main container's `securityContext` (`runAsUser`, `runAsGroup`, `runAsNonRoot`, and, as
kfp's driver does, every capability dropped). Locally: recorded and ignored (the task runs as you).
A later call sets only the fields it names, as in kfp.
"""

from __future__ import annotations

from typing import Any

from conveyor.kubernetes import _error, _settings


def _id(task: Any, value: Any, argument: str) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise _error(task, f"must be an int >= 0, got {value!r}", argument)
    return value


def set_security_context(task: Any, run_as_user: int | None = None, run_as_group: int | None = None,
                         run_as_non_root: bool | None = None) -> Any:
    if run_as_user is None and run_as_group is None and run_as_non_root is None:
        raise _error(task, "give at least one of run_as_user, run_as_group, run_as_non_root", "run_as_user")
    if run_as_non_root is not None and not isinstance(run_as_non_root, bool):
        raise _error(task, f"must be a bool, got {run_as_non_root!r}", "run_as_non_root")
    given = {"run_as_user": _id(task, run_as_user, "run_as_user"), "run_as_group": _id(task, run_as_group, "run_as_group"),
             "run_as_non_root": run_as_non_root}
    current = _settings(task).get("security_context") or {}
    _settings(task)["security_context"] = {**current, **{k: v for k, v in given.items() if v is not None}}
    return task
