"""Where a local attempt keeps its files: ``<home>/runs/<run>/<task>/attempt-<n>/``.

``request.json`` (a ``TaskRequest``), ``result.json`` (the ``TaskResult``), ``log.txt`` and the
``work/`` scratch folder the function sees. The folder is numbered like the recorded attempt, so a
resume never reuses a killed attempt's folder; one the store never heard of (killed before it was
recorded) is cleared, so its partial outputs and result cannot leak into the new attempt.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class AttemptDir:
    root: Path

    @property
    def request(self) -> Path:
        return self.root / "request.json"

    @property
    def result(self) -> Path:
        return self.root / "result.json"

    @property
    def log(self) -> Path:
        return self.root / "log.txt"

    @property
    def work(self) -> Path:
        return self.root / "work"

    @staticmethod
    def run_root(home: Path, run_id: str) -> Path:
        """The run's own folder (attempts, and ``kube_local``'s mounts)."""
        return home / "runs" / run_id

    @classmethod
    def workspace(cls, home: Path, run_id: str) -> Path:
        """The run's workspace (dsl.PipelineConfig): kept while the run can be resumed, removed once it
        succeeded (kfp.local removes it after every run)."""
        return cls.run_root(home, run_id) / "workspace"

    @classmethod
    def ensure_workspace(cls, home: Path, run_id: str) -> str:
        """The workspace folder a task of this run is handed, made on first use."""
        folder = cls.workspace(home, run_id)
        folder.mkdir(parents=True, exist_ok=True)
        return str(folder)

    @classmethod
    def prepare(cls, home: Path, run_id: str, task_id: str, number: int) -> AttemptDir:
        root = cls.run_root(home, run_id) / task_id / f"attempt-{number}"
        if root.exists():
            shutil.rmtree(root, ignore_errors=True)
        (root / "work").mkdir(parents=True, exist_ok=True)
        return cls(root)
