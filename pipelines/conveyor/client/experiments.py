"""Experiments: named groups of runs, as `Client.create_experiment` makes them.

conveyor's metadata schema has no experiment table; an experiment is a name with a stable id,
kept in `experiments.json` under CONVEYOR_HOME (written atomically), and each run carries its
experiment id as a label, so `list_runs(experiment_id=...)` filters on it. The id is derived from
the name (uuid5), so the same name gives the same id on every machine.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

DEFAULT_EXPERIMENT = "Default"  # what kfp files runs under when no experiment is named
_NAMESPACE = uuid.UUID("6f1f3c56-52f4-4b8e-9d35-5a8d2e0c7e11")


def experiment_id_for(name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, name))


class ExperimentRegistry:
    def __init__(self, home: Path) -> None:
        self.path = home / "experiments.json"

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except json.JSONDecodeError as exc:
            raise ValueError(f"{self.path} is not valid JSON ({exc}); fix or delete it") from None

    def _write(self, data: dict[str, dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".experiments-")
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
        os.replace(tmp, self.path)

    def ensure(self, name: str, description: str | None = None, namespace: str | None = None) -> dict[str, Any]:
        """The experiment named `name`, created if new (kfp's create_experiment returns an existing one)."""
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"experiment name must be a non-empty string, got {name!r}")
        data = self._read()
        exp_id = experiment_id_for(name)
        if exp_id not in data:
            data[exp_id] = {"experiment_id": exp_id, "display_name": name, "description": description,
                            "namespace": namespace, "created_at": time.time()}
            self._write(data)
        return data[exp_id]

    def get(self, experiment_id: str | None = None, name: str | None = None) -> dict[str, Any]:
        if (experiment_id is None) == (name is None):
            raise ValueError("pass exactly one of experiment_id or experiment_name")
        data = self._read()
        key = experiment_id if experiment_id is not None else experiment_id_for(name or "")
        if key not in data:
            known = sorted(e["display_name"] for e in data.values())
            what = f"id {experiment_id!r}" if experiment_id is not None else f"name {name!r}"
            raise LookupError(f"no experiment with {what}; experiments: {', '.join(known) or '(none)'}")
        return data[key]

    def all(self) -> list[dict[str, Any]]:
        return sorted(self._read().values(), key=lambda e: e["created_at"])
