"""Resume after the runner is killed with SIGKILL: completed tasks are reused, never recomputed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

PIPE = """
@dsl.component
def step(name: str, seconds: float, upstream: str = "") -> str:
    import os, time
    open(os.path.join({marks!r}, f"{{name}}-{{os.getpid()}}"), "w").write("x")
    time.sleep(seconds)
    return upstream + name

@dsl.pipeline(name="resumable")
def resumable() -> str:
    a = step(name="a", seconds=0.0)
    b = step(name="b", seconds=0.0, upstream=a.output)
    c = step(name="c", seconds=3.0, upstream=b.output)
    return step(name="d", seconds=0.0, upstream=c.output).output
"""


def _cli(*args, env, cwd, **kw):
    return subprocess.Popen([sys.executable, "-m", "conveyor", *args], env=env, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def test_kill_9_then_resume_reuses_completed_tasks(write_pipeline, home, tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    path = write_pipeline(PIPE.format(marks=str(marks)))
    env = {**os.environ, "CONVEYOR_HOME": str(home)}
    proc = _cli("run", str(path), "--json", env=env, cwd=tmp_path)
    deadline = time.time() + 30
    while not list(marks.glob("c-*")):
        assert time.time() < deadline, "task c never started"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    from conveyor.stores.metadata import open_metadata_store

    store = open_metadata_store(f"sqlite:///{home / 'metadata.db'}")
    run = store.list_runs(limit=1)[0]
    assert run.status == "running"  # the runner died mid-run
    assert set(store.completed_tasks(run.run_id)) == {"step", "step-2"}
    store.close()

    resumed = _cli("resume", run.run_id, "--json", env=env, cwd=tmp_path)
    out, err = resumed.communicate(timeout=60)
    assert resumed.returncode == 0, err
    result = json.loads(out)
    assert result["status"] == "succeeded" and result["outputs"] == {"Output": "abcd"}
    assert len(list(marks.glob("a-*"))) == 1 and len(list(marks.glob("b-*"))) == 1  # not recomputed
    store = open_metadata_store(f"sqlite:///{home / 'metadata.db'}")
    report = store.consistency_report(run.run_id)
    assert report.ok, report.problems
    attempts = store.list_attempts(run.run_id)
    assert not [a for a in attempts if a.status == "running"]
    assert any(a.failure_class == "killed" for a in attempts), attempts  # the attempt the kill interrupted
    store.close()
