"""`conveyor.run(p)` at a script's top level: runs once from `python script.py`, never recurses.

Each case runs a real script in a subprocess with a timeout: before the fix the task process
re-imported the script, started a nested run and waited an hour on the outer run's lease.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import conveyor
    from conveyor import dsl

    @dsl.component
    def add(a: int, b: int) -> int:
        return a + b

    @dsl.pipeline(name="script-top")
    def p(x: int = 1) -> int:
        return add(a=x, b=2).output

    result = conveyor.run(p)
    print("MAIN PART RAN", result.status, result.outputs)
''')

NESTED = textwrap.dedent('''
    from conveyor import dsl

    @dsl.component
    def inner() -> int:
        return 1

    @dsl.pipeline(name="inner")
    def inner_p():
        inner()

    @dsl.component
    def starts_a_run() -> int:
        import conveyor
        conveyor.run(inner_p)
        return 0

    @dsl.pipeline(name="outer")
    def outer():
        starts_a_run()
''')


def _python(home, cwd, *args, timeout=60):
    env = {**os.environ, "CONVEYOR_HOME": str(home), "COLUMNS": "200"}
    env.pop("CONVEYOR_TASK_PROCESS", None)
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _runs(home):
    from conveyor.stores.metadata import open_metadata_store

    store = open_metadata_store(f"sqlite:///{home / 'metadata.db'}")
    try:
        return store.list_runs()
    finally:
        store.close()


def test_python_script_with_top_level_run_runs_once_and_finishes(tmp_path, home):
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    proc = _python(home, tmp_path, str(script))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("MAIN PART RAN") == 1 and "succeeded {'Output': 3}" in proc.stdout
    (run,) = _runs(home)
    assert run.status == "succeeded"


def test_conveyor_run_of_such_a_script_runs_the_pipeline_once_not_the_main_part(tmp_path, home):
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    proc = _python(home, tmp_path, "-m", "conveyor", "run", str(script), "--json")
    assert proc.returncode == 0, proc.stderr
    assert "MAIN PART RAN" not in proc.stdout
    (run,) = _runs(home)
    assert run.status == "succeeded" and run.outputs == {"Output": 3}


def test_a_task_that_calls_conveyor_run_fails_with_a_clear_error(tmp_path, home):
    script = tmp_path / "nested.py"
    script.write_text(NESTED)
    proc = _python(home, tmp_path, "-m", "conveyor", "run", f"{script}:outer", "--json")
    assert proc.returncode != 0
    (run,) = _runs(home)
    assert run.pipeline_name == "outer" and run.status == "failed"
    (task,) = proc_json(proc)["tasks"]
    assert task["failure_class"] == "permanent" and task["attempts"] == 1
    assert "NestedRunError" in task["error"] and "tasks cannot start runs" in task["error"]


def proc_json(proc):
    import json

    return json.loads(proc.stdout)
