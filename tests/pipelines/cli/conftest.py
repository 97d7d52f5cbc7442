"""Run the real `conveyor` command in a subprocess, in an isolated CONVEYOR_HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

import pytest


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def json(self):
        return json.loads(self.out)


@pytest.fixture
def cli(home, tmp_path):
    def run(*args: str, env: dict | None = None, timeout: float = 120) -> Result:
        full_env = {**os.environ, "CONVEYOR_HOME": str(home), "COLUMNS": "200", **(env or {})}
        proc = subprocess.run([sys.executable, "-m", "conveyor", *args], cwd=tmp_path, env=full_env,
                              capture_output=True, text=True, timeout=timeout)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run
