"""Crash and resume: kill -9 the runner at seeded random points, resume, and prove nothing was lost.

Why: the top complaint about pipeline runners is runs lost when something crashes. Each trial runs
a 20-task pipeline (artifacts, a directory artifact, a ParallelFor fan-out and fan-in) through the
real CLI, SIGKILLs the runner process once a seeded number of tasks have started (plus a seeded
jitter, so kills land mid-task, mid-upload and mid-record), then `conveyor resume`s it. Every trial
asserts: the run finishes with the right answer; no task that the store called complete at the kill
started again (marker files count real starts); every artifact row and completed output exists
with its digest (bytes re-hashed); the store's consistency report is clean; no attempt is left
running. A second family kills one *task* process instead: it is retried and the run goes on.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time

import pytest

from tests.reliability import pipelines
from tests.reliability.helpers import (
    check_run_integrity,
    kill_runner,
    kill_tree,
    marks_by_task,
    open_store,
    run_cli,
    scan_local_cas,
    size,
    sqlite_url,
    start_cli,
    wait_for,
)

pytestmark = pytest.mark.reliability

RUNNER_TRIALS = size(3, 20)
TASK_KILL_TRIALS = size(1, 5)


@pytest.fixture
def crash_file(tmp_path):
    marks = tmp_path / "marks"
    return pipelines.write(tmp_path, "crash", pipelines.CRASH, marks), marks


def _artifact_store(home):
    from conveyor.stores.artifacts import open_artifact_store

    return open_artifact_store(str(home / "artifacts"))


@pytest.mark.parametrize("seed", range(RUNNER_TRIALS), ids=lambda s: f"seed{s}")
def test_kill_9_runner_then_resume_loses_nothing(seed, crash_file, tmp_path, reliability_notes):
    rng = random.Random(seed)
    kill_after = rng.randint(1, pipelines.CRASH_TASKS - 1)  # task starts seen before the kill
    jitter = rng.uniform(0.0, 0.25)
    path, marks = crash_file
    home = tmp_path / "home"
    proc = start_cli("run", str(path), "--parallelism", "2", "--json", home=home, cwd=tmp_path)
    try:
        wait_for(lambda: sum(marks_by_task(marks).values()) >= kill_after or proc.poll() is not None,
                 60, f"{kill_after} task starts")
        time.sleep(jitter)
        assert proc.poll() is None, f"the run ended before the kill: {proc.communicate()}"
        kill_runner(proc)
    except BaseException:
        kill_tree(proc)
        raise

    store = open_store(sqlite_url(home))
    try:
        (run,) = store.list_runs(limit=5)
        assert run.status == "running", "the kill must land mid-run"
        completed = set(store.completed_tasks(run.run_id))
        starts_at_kill = marks_by_task(marks)
        # Before resuming: whatever the kill left, nothing incomplete is marked complete.
        assert not check_run_integrity(store, _artifact_store(home), run.run_id, ended=False)
    finally:
        store.close()

    resumed = run_cli("resume", run.run_id, "--json", "--parallelism", "2", home=home, cwd=tmp_path)
    assert resumed.code == 0, resumed.text
    result = resumed.json()
    assert result["status"] == "succeeded" and result["outputs"] == {"Output": pipelines.CRASH_OUTPUT}
    assert len(result["tasks"]) == pipelines.CRASH_TASKS
    assert all(t["status"] in ("succeeded", "cached") for t in result["tasks"]), result["tasks"]

    starts = marks_by_task(marks)
    recomputed = sorted(t for t in completed if starts.get(t, 0) != starts_at_kill.get(t, 0))
    assert not recomputed, f"seed {seed}: tasks completed before the kill ran again: {recomputed}"
    assert set(starts) == {t["name"] for t in result["tasks"]}  # a fresh home: every task computed once at least
    reliability_notes.append("crash", f"seed {seed}: killed after {kill_after} starts + {jitter:.2f} s, "
                             f"{len(completed)} tasks complete at the kill, {len(recomputed)} recomputed")

    store = open_store(sqlite_url(home))
    try:
        problems = check_run_integrity(store, _artifact_store(home), run.run_id)
        problems += scan_local_cas(home / "artifacts")
        assert not problems, f"seed {seed} (kill after {kill_after} starts + {jitter:.2f} s): {problems}"
        interrupted = [a for a in store.list_attempts(run.run_id) if a.failure_class == "killed"]
        assert all(a.status == "failed" for a in interrupted)
    finally:
        store.close()


@pytest.mark.parametrize("seed", range(TASK_KILL_TRIALS), ids=lambda s: f"seed{s}")
def test_killed_task_process_is_retried_and_the_run_goes_on(seed, crash_file, tmp_path):

    rng = random.Random(1000 + seed)
    victim = rng.choice(["gen", *(f"shard[{i}]" for i in range(10)), "merge", "train", "evaluate",
                         "publish", "publish-3", "publish-6"])
    path, marks = crash_file
    home = tmp_path / "home"
    seconds = "0.6"  # long enough to find the process mid-task
    proc = start_cli("run", str(path), "--parallelism", "2", "--json", "-p", f"seconds={seconds}",
                     "-p", "last_seconds=0.6", home=home, cwd=tmp_path)
    try:
        mark = wait_for(lambda: next((p for p in marks.iterdir() if p.name.startswith(victim + "@")), None)
                        if marks.exists() else None, 90, f"task {victim} to start")
        os.kill(int(mark.name.split("@")[1]), signal.SIGKILL)
        out, err = proc.communicate(timeout=120)
    except BaseException:
        kill_tree(proc)
        raise
    assert proc.returncode == 0, out + err

    result = json.loads(out)
    tasks = {t["name"]: t for t in result["tasks"]}
    assert result["status"] == "succeeded" and result["outputs"] == {"Output": pipelines.CRASH_OUTPUT}
    assert tasks[victim]["attempts"] == 2, tasks[victim]
    assert marks_by_task(marks)[victim] == 2
    store = open_store(sqlite_url(home))
    try:
        attempts = store.list_attempts(result["run_id"], victim)
        assert [(a.status, a.failure_class) for a in attempts] == [("failed", "killed"), ("succeeded", None)]
        assert not check_run_integrity(store, _artifact_store(home), result["run_id"])
    finally:
        store.close()
