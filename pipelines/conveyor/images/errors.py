"""The one error of the images layer: which step failed, why, and the log to read."""

from __future__ import annotations

from pathlib import Path


class ImageBuildError(RuntimeError):
    """A task image cannot be built or pushed; names the step, the reason and the log file if any."""

    def __init__(self, step: str, reason: str, log: Path | None = None):
        self.step, self.reason, self.log = step, reason, log
        super().__init__(f"image build step {step!r} failed: {reason}" + (f"; see {log}" if log else ""))
