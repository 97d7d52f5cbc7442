"""Concurrent runs on one metadata store: no errors, no "database is locked", no duplicate compute.

Why: metadata stores that break under concurrent writes are a classic complaint. Many separate
runner processes (each with its own fork server, exactly as users start them) run a small pipeline
against ONE store at the same time. All runs share one cache key (`prep`), groups of runs share
another (`group_stat`), and one is per run (`unique`). Expected: every process exits 0, nothing
prints "database is locked", each shared key is computed exactly once (marker files count real
computations across all processes), and every run's metadata is complete and consistent. The
throughput (runs/s over the whole batch) goes to the summary for bench/RESULTS.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.reliability import pipelines
from tests.reliability.helpers import check_run_integrity, cli_env, marks_by_task, open_store, size

pytestmark = pytest.mark.reliability

SQLITE_RUNS = size(10, 50)
POSTGRES_RUNS = size(20, 200)
GROUPS = 5
MAX_IN_FLIGHT = 50  # runner processes alive at once (each also has a fork server); ~100 MB each
DRIVER = Path(__file__).with_name("run_driver.py")


def run_batch(commands: list[list[str]], env: dict[str, str], cwd: Path, timeout: float = 600):
    """Start every command (at most MAX_IN_FLIGHT at a time); return [(code, stdout, stderr)], seconds."""
    started = time.monotonic()
    pending = list(enumerate(commands))
    running: dict[int, subprocess.Popen] = {}
    results: dict[int, tuple[int, str, str]] = {}
    logs = cwd / "logs"
    logs.mkdir(exist_ok=True)
    try:
        while pending or running:
            while pending and len(running) < MAX_IN_FLIGHT:
                k, cmd = pending.pop(0)
                with open(logs / f"{k}.out", "w") as out, open(logs / f"{k}.err", "w") as err:
                    running[k] = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err)
            for k, proc in list(running.items()):
                if proc.poll() is not None:
                    results[k] = (proc.returncode, (logs / f"{k}.out").read_text(), (logs / f"{k}.err").read_text())
                    del running[k]
            assert time.monotonic() - started < timeout, f"the batch ran past {timeout} s"
            time.sleep(0.05)
    finally:
        for proc in running.values():
            proc.kill()
            proc.wait()
    return [results[k] for k in range(len(commands))], time.monotonic() - started


def check_batch(outcomes, marks: Path, store_url: str, artifact_root: str, n: int) -> list[dict]:
    from conveyor.stores.artifacts import open_artifact_store

    errors = [(k, code, err[-800:]) for k, (code, out, err) in enumerate(outcomes) if code != 0]
    assert not errors, f"{len(errors)} of {n} runs failed: {errors[:3]}"
    locked = [k for k, (_, out, err) in enumerate(outcomes) if "locked" in (out + err).lower()]
    assert not locked, f"'database is locked' in runs {locked}"
    results = [json.loads(out) for _, out, _ in outcomes]
    for i, result in enumerate(results):
        assert result["status"] == "succeeded" and result["outputs"] == {
            "Output": pipelines.small_output(i, i % GROUPS)}, result

    computed = marks_by_task(marks)
    expected = {"prep:seed1": 1, **{f"group-stat:group{g}": 1 for g in range(min(n, GROUPS))},
                **{f"unique:run{i}": 1 for i in range(n)}}
    assert computed == expected, {k: v for k, v in computed.items() if v != 1} or computed

    store = open_store(store_url)
    artifacts = open_artifact_store(artifact_root)
    try:
        for result in results:
            run = store.get_run(result["run_id"])
            assert run.status == "succeeded" and run.outputs == result["outputs"]
            tasks = store.list_tasks(result["run_id"])
            assert sorted(t.task_id for t in tasks) == ["group-stat", "prep", "unique"]
            assert all(t.status in ("succeeded", "cached") for t in tasks)
            problems = check_run_integrity(store, artifacts, result["run_id"])
            assert not problems, (result["run_id"], problems)
        statuses = [t.status for r in results for t in store.list_tasks(r["run_id"]) if t.task_id == "prep"]
        assert statuses.count("succeeded") == 1 and statuses.count("cached") == n - 1
    finally:
        store.close()
    return results


def _note(notes, backend: str, n: int, seconds: float) -> None:
    notes.append("concurrency", f"{backend}: {n} concurrent runs (max {MAX_IN_FLIGHT} in flight) in "
                 f"{seconds:.1f} s = {n / seconds:.2f} runs/s on {os.cpu_count()} cores")


def test_concurrent_runs_share_one_sqlite_store(tmp_path, reliability_notes):
    marks = tmp_path / "marks"
    path = pipelines.write(tmp_path, "small", pipelines.SMALL, marks)
    home = tmp_path / "home"
    commands = [[sys.executable, "-m", "conveyor", "run", str(path), "--json", "--parallelism", "1",
                 "-p", f"i={i}", "-p", f"group={i % GROUPS}"] for i in range(SQLITE_RUNS)]
    outcomes, seconds = run_batch(commands, cli_env(home), tmp_path)
    check_batch(outcomes, marks, f"sqlite:///{home / 'metadata.db'}", str(home / "artifacts"), SQLITE_RUNS)
    _note(reliability_notes, "SQLite", SQLITE_RUNS, seconds)


def test_concurrent_runs_share_one_postgres_store(tmp_path, fresh_postgres_db, reliability_notes):
    marks = tmp_path / "marks"
    path = pipelines.write(tmp_path, "small", pipelines.SMALL, marks)
    artifact_root = (tmp_path / "artifacts").as_uri()
    env = {**cli_env(tmp_path / "home"), "PYTHONPATH": os.pathsep.join(sys.path)}
    commands = [[sys.executable, str(DRIVER), fresh_postgres_db, artifact_root, str(path),
                 "-p", f"i={i}", "-p", f"group={i % GROUPS}"] for i in range(POSTGRES_RUNS)]
    outcomes, seconds = run_batch(commands, env, tmp_path)
    check_batch(outcomes, marks, fresh_postgres_db, artifact_root, POSTGRES_RUNS)
    _note(reliability_notes, "Postgres", POSTGRES_RUNS, seconds)
