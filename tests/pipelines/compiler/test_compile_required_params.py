"""A pipeline parameter without a default compiles (declared without a value, for `argo submit -p`);
`run` and `submit` still require it."""

from __future__ import annotations

import os
import subprocess
import sys

import yaml

from tests.pipelines.compiler.conftest import PROFILE_PATH

REQUIRED = """
from conveyor import dsl

@dsl.component
def add(a: int, b: int) -> int:
    return a + b

@dsl.pipeline(name="required-param")
def required_param(a: int, b: int = 2) -> int:
    return add(a=a, b=b).output
"""


def _conveyor(tmp_path, *args):
    env = {**os.environ, "CONVEYOR_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "conveyor", *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)


def test_compile_declares_a_parameter_without_default_with_no_value(tmp_path, argo_schema):
    (tmp_path / "req.py").write_text(REQUIRED)
    proc = _conveyor(tmp_path, "compile", "req.py", "--image", "registry.example/conveyor:1")
    assert proc.returncode == 0, proc.stderr
    manifest = yaml.safe_load(proc.stdout)
    argo_schema.check(manifest)
    params = {p["name"]: p for p in manifest["spec"]["arguments"]["parameters"]}
    assert params["a"] == {"name": "a"}  # no value: `argo submit -p a=...` fills it
    assert params["b"] == {"name": "b", "value": "2"}


def test_compile_with_the_value_given_sets_it(tmp_path):
    (tmp_path / "req.py").write_text(REQUIRED)
    proc = _conveyor(tmp_path, "compile", "req.py", "-p", "a=7", "--image", "registry.example/conveyor:1")
    assert proc.returncode == 0, proc.stderr
    params = {p["name"]: p for p in yaml.safe_load(proc.stdout)["spec"]["arguments"]["parameters"]}
    assert params["a"] == {"name": "a", "value": "7"}


def test_run_and_submit_still_require_it(tmp_path):
    (tmp_path / "req.py").write_text(REQUIRED)
    for command in (["run", "req.py"], ["submit", "req.py", "--profile", str(PROFILE_PATH)]):
        proc = _conveyor(tmp_path, *command)
        assert proc.returncode == 2, (command, proc.stderr)
        assert "argument 'a': missing required argument (type int)" in " ".join(proc.stderr.split()), proc.stderr
    assert not (tmp_path / "home" / "metadata.db").exists()
