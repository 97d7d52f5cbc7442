"""Pipeline-runtime fixtures: an isolated CONVEYOR_HOME and pipelines written to real files.

Pipelines live in files because task processes import their module file, exactly as they do for
users; nothing here runs a component in the test process.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

HEADER = """
from typing import NamedTuple
from conveyor import dsl
from conveyor.dsl import Input, Output, InputPath, OutputPath, Dataset, Model, Metrics, Artifact
"""


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("CONVEYOR_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    return home


@pytest.fixture
def write_pipeline(tmp_path):
    counter = {"n": 0}

    def write(body: str, name: str | None = None) -> Path:
        counter["n"] += 1
        path = tmp_path / f"{name or 'pipe'}_{counter['n']}.py"
        path.write_text(HEADER + textwrap.dedent(body))
        return path

    return write


@pytest.fixture
def runner(home):
    from conveyor.executor.run import LocalRunner

    r = LocalRunner()
    yield r
    r.close()


@pytest.fixture
def run_file(runner):
    from conveyor.executor.run import RunOptions
    from conveyor.runtime.loader import find_pipeline

    def run(path: Path, arguments: dict | None = None, name: str | None = None, **options):
        spec = find_pipeline(path, name).pipeline_spec
        return runner.run(spec, arguments or {}, options=RunOptions(**options), preload=[str(path)])

    return run
