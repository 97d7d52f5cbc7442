"""Range checks for numeric CLI options: durations, counts, limits and parallelism must be > 0.

Why: a negative `--older-than` made `cache prune` treat every entry as old and delete them all.
Each option is checked at parse time, before any store is opened, and the error names the
option, the value and what is allowed (click prints it and exits 2).
"""

from __future__ import annotations

from typing import Any

import typer


def _check(kind: str):
    def callback(ctx: typer.Context, param: typer.CallbackParam, value: Any) -> Any:
        if value is None or ctx.resilient_parsing:
            return value
        if value <= 0:
            raise typer.BadParameter(f"{value} is not allowed; it must be {kind} greater than 0")
        return value

    return callback


positive_seconds = _check("a number of seconds")
positive_count = _check("a whole number")
