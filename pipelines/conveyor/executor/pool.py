"""The runner's side of the fork server: spawn task processes, learn when they exit, kill them.

Exit events arrive on a reader thread and are handed to the scheduler through a queue, so the
scheduler's loop blocks on one queue for everything that can happen (exits, timers, cache waits).
If the fork server itself dies, every task it had is reported as killed (a transient failure)
and a fresh server is started for the next spawn.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class ProcessExit:
    id: str
    pid: int | None
    code: int
    signal: int | None
    maxrss_kb: int | None
    cpu_s: float | None


class WorkerPoolError(RuntimeError):
    pass


class WorkerPool:
    def __init__(self, events: queue.Queue, preload: list[str], sys_path: list[str] | None = None):
        self._events = events
        self._preload = list(preload)
        self._sys_path = sys_path if sys_path is not None else [p for p in sys.path if p]
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._pending: dict[str, threading.Event] = {}
        self._pids: dict[str, int] = {}  # live task processes
        self._spawned: dict[str, int] = {}  # pid handed back to spawn(), even if the task already exited
        self.warnings: list[str] = []

    # -- lifecycle ---------------------------------------------------------------------------
    def _start(self) -> subprocess.Popen:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(self._sys_path)
        proc = subprocess.Popen(
            [sys.executable, "-m", "conveyor.executor.forkserver", json.dumps(self._preload)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None, env=env,
            bufsize=0, start_new_session=True,
        )
        first = proc.stdout.readline()
        if not first:
            raise WorkerPoolError("the task fork server exited during start-up (see the log above)")
        ready = json.loads(first)
        self.warnings = ready.get("warnings", [])
        threading.Thread(target=self._read, args=(proc,), daemon=True, name="forkserver-reader").start()
        return proc

    def start(self) -> None:
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._proc = self._start()

    def close(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            proc.stdin.write(b'{"op": "quit"}\n')
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    # -- tasks -------------------------------------------------------------------------------
    def spawn(self, task_id: str, request_path: str, log_path: str, env: dict[str, str] | None = None,
              cwd: str | None = None, preload: list[str] | None = None, python: str | None = None) -> int:
        """Fork a task process; returns its pid once the fork server has forked it."""
        started = threading.Event()
        self.start()
        with self._lock:
            self._pending[task_id] = started
            line = json.dumps({"op": "spawn", "id": task_id, "request": request_path, "log": log_path,
                               "env": env or {}, "cwd": cwd, "preload": preload or [],
                               "python": python}) + "\n"
            try:
                self._proc.stdin.write(line.encode())
            except (OSError, AttributeError) as exc:
                self._pending.pop(task_id, None)
                raise WorkerPoolError(f"could not reach the task fork server: {exc}") from None
        if not started.wait(timeout=600):
            raise WorkerPoolError(f"the fork server did not start task {task_id} within 600 s")
        pid = self._spawned.pop(task_id, None)
        if pid is None:
            raise WorkerPoolError(f"the fork server died while starting task {task_id}")
        return pid

    def kill(self, task_id: str, sig: int = signal.SIGKILL) -> None:
        """Signal the task's whole process group; a task that already exited is left alone."""
        pid = self._pids.get(task_id)
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)

    def _read(self, proc: subprocess.Popen) -> None:
        for raw in proc.stdout:
            event = json.loads(raw)
            if event["ev"] == "started":
                self._pids[event["id"]] = event["pid"]
                self._spawned[event["id"]] = event["pid"]
                waiter = self._pending.pop(event["id"], None)
                if waiter:
                    waiter.set()
            elif event["ev"] == "exited":
                self._pids.pop(event["id"], None)
                self._events.put(ProcessExit(event["id"], event["pid"], event["code"], event["signal"],
                                             event["maxrss_kb"], event["cpu_s"]))
        # The server is gone: whatever it still ran is lost to us.
        for task_id, pid in list(self._pids.items()):
            self._pids.pop(task_id, None)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            self._events.put(ProcessExit(task_id, pid, -9, 9, None, None))
        for waiter in list(self._pending.values()):
            waiter.set()
        self._pending.clear()
