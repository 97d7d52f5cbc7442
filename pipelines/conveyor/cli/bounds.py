"""Range checks for numeric CLI options: durations, counts, limits and parallelism must be > 0.

Why: a negative `--older-than` made `cache prune` treat every entry as old and delete them all.
Each command checks its options first, before any store is opened; the error names the option,
the value and what is allowed, and `friendly` prints it as one line with exit code 2.
"""

from __future__ import annotations

from typing import Any

import typer


def _check(bound: str, unit: str):
    def check(option: str, value: Any) -> None:
        if value is not None and value <= 0:
            raise typer.BadParameter(f"{option} must be {bound}{unit}, got {value}")

    return check


positive_seconds = _check("> 0", " seconds")
positive_count = _check(">= 1", "")
