"""Derived timing shared by the record types: one definition of a run's duration."""

from __future__ import annotations


class Timed:
    """`duration_s` of anything with `started_at`/`ended_at` (run records and run summaries)."""

    started_at: float | None
    ended_at: float | None

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.started_at
