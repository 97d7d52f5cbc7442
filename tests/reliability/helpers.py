"""Shared machinery of the reliability suite: sizing, the CLI in a subprocess, and the integrity checks.

Everything here drives the real thing: `python -m conveyor` in its own process (so a kill -9 is a
real kill of a real runner), the real metadata store and the real artifact store. The checks are
the suite's definition of "nothing lost", applied after every trial and fault case.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

FULL = os.environ.get("CONVEYOR_RELIABILITY", "").strip().lower() == "full"


def size(short: int, full: int) -> int:
    """How many trials/runs: the short form runs in `make test` and CI, the full one in `make reliability`."""
    return full if FULL else short


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVEYOR_")}
    env.update({"CONVEYOR_HOME": str(home), "PYTHONUNBUFFERED": "1", "COLUMNS": "200", "NO_COLOR": "1"})
    env.update(extra)
    return env


def start_cli(*args: str, home: Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "conveyor", *args], env=env or cli_env(home), cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    def json(self):
        return json.loads(self.out)


def run_cli(*args: str, home: Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120) -> CliResult:
    proc = start_cli(*args, home=home, cwd=cwd, env=env)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_tree(proc)
        out, err = proc.communicate()
        raise AssertionError(f"conveyor {' '.join(args)} ran past {timeout} s\n{out}\n{err}") from None
    return CliResult(proc.returncode, out, err)


def kill_tree(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Kill a CLI process and everything under it (used only to clean up after a failed test)."""
    with contextlib.suppress(psutil.NoSuchProcess):
        for child in psutil.Process(proc.pid).children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                child.send_signal(sig)
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(sig)
    proc.wait()


def kill_runner(proc: subprocess.Popen, grace: float = 15.0) -> None:
    """kill -9 the runner alone (as the OOM killer or a closed laptop lid would), then wait until the
    fork server and its tasks notice and go away, so the resume that follows has the store to itself."""
    try:
        descendants = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        descendants = []
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    _, alive = psutil.wait_procs(descendants, timeout=grace)
    assert not alive, f"processes outlived the killed runner by {grace} s: {alive}"


def sqlite_url(home: Path) -> str:
    return f"sqlite:///{home / 'metadata.db'}"


def open_store(url: str):
    from conveyor.stores.metadata import open_metadata_store

    return open_metadata_store(url)


def marks_by_task(marks: Path) -> dict[str, int]:
    """How many times each task instance started: components drop `<task id>@<pid>@<ns>` files."""
    counts: dict[str, int] = {}
    for p in marks.iterdir():
        task = p.name.split("@", 1)[0]
        counts[task] = counts.get(task, 0) + 1
    return counts


def wait_for(predicate, timeout: float, what: str, poll: float = 0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(poll)


def check_run_integrity(store, artifacts, run_id: str, *, ended: bool = True) -> list[str]:
    """Every way a run can have lost something, as a list of problems (empty: nothing lost).

    - the store's own consistency report (completed tasks have outputs with digests, recorded);
    - no attempt and no task left `running` once the run has ended;
    - every artifact row of the run exists in the artifact store with exactly its digest (deep:
      the bytes are re-hashed), so nothing half-written is ever marked complete;
    - every output artifact of every completed task verifies the same way.
    """
    problems = list(store.consistency_report(run_id).problems)
    if ended:
        run = store.get_run(run_id)
        if run.status == "running":
            problems.append(f"run {run_id} is still 'running'")
        problems += [f"attempt {a.number} of {a.task_id} left running" for a in store.list_attempts(run_id)
                     if a.status == "running"]
        problems += [f"task {t.task_id} left running" for t in store.list_tasks(run_id) if t.status == "running"]
    for art in store.find_artifacts(run_id=run_id):
        if not artifacts.verify(art.uri, art.digest, deep=True):
            problems.append(f"artifact row {art.output_name} of {art.producer_task_id} ({art.uri}) does not verify")
    for task in store.list_tasks(run_id):
        if task.status in ("succeeded", "cached"):
            for name, art in ((task.outputs or {}).get("artifacts") or {}).items():
                for one in art if isinstance(art, list) else [art]:
                    if not artifacts.verify(one["uri"], one["digest"], deep=True):
                        problems.append(f"output {name} of completed task {task.task_id} does not verify")
    return problems


def scan_local_cas(root: Path) -> list[str]:
    """Every blob in a local content-addressed store must hash to its own name: a crash may leave
    garbage in tmp/, never a half-written file under a final name."""
    from conveyor.stores.artifacts.cas import file_digest

    problems = []
    blobs = root / "blobs"
    if blobs.exists():
        for path in blobs.rglob("*"):
            if path.is_file() and file_digest(path)[0] != path.name:
                problems.append(f"blob {path} does not hash to its name")
    return problems
