"""A warm fork server: import the pipeline module once, then fork one process per task.

Why: starting a fresh interpreter (and re-importing pandas, sklearn, the pipeline file) per task
costs 0.3–2 s; a fork of a warm process costs about a millisecond, while still giving every task
its own address space, so crashes, leaks and globals stay isolated.

Protocol: JSON lines. Commands arrive on stdin; events leave on a private duplicate of the
original stdout (fd 1 itself is pointed at stderr so that prints from user code at import time
cannot corrupt the channel).

    -> {"op": "spawn", "id": ID, "request": PATH, "log": PATH, "env": {..}, "cwd": DIR}
    <- {"ev": "started", "id": ID, "pid": PID}
    <- {"ev": "exited", "id": ID, "pid": PID, "code": INT, "signal": INT|null,
        "maxrss_kb": INT, "cpu_s": FLOAT}
    -> {"op": "quit"}

The child becomes a process-group leader, so a timeout kills everything the task started.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import sys
import traceback

_LOADED: set[str] = set()


def _preload(items: list[str]) -> list[str]:
    """Import pipeline files and modules into the server, once, so every later fork inherits them.

    Done lazily, right before the first task that needs them, so a fully cached run never pays for
    importing pandas or torch. Failures are left for the task itself to report.
    """
    import importlib

    from conveyor.runtime.loader import load_module_file

    warnings: list[str] = []
    for item in items:
        if item in _LOADED:
            continue
        _LOADED.add(item)
        try:
            if item.endswith(".py"):
                load_module_file(item)
            else:
                importlib.import_module(item)
        except BaseException as exc:  # noqa: BLE001 - the task reports its own import errors clearly
            warnings.append(f"could not preload {item}: {type(exc).__name__}: {exc}")
    return warnings


def _run_child(cmd: dict) -> int:
    os.setsid()
    log_fd = os.open(cmd["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.environ.update(cmd.get("env") or {})
    if cmd.get("cwd"):
        os.chdir(cmd["cwd"])
    if cmd.get("python"):  # an isolated env: its own packages must win over ours, so no PYTHONPATH
        os.environ.pop("PYTHONPATH", None)
        os.execv(cmd["python"], [cmd["python"], "-m", "conveyor.runtime.task", cmd["request"]])
    from conveyor.runtime.task import main as run_task

    return run_task(cmd["request"])


def serve(preload: list[str]) -> None:
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    import conveyor.runtime.task  # noqa: F401  (the per-task entrypoint, warm in every fork)

    warnings = _preload(preload)

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner decides what an interrupt means

    def emit(event: dict) -> None:
        channel.write(json.dumps(event) + "\n")

    emit({"ev": "ready", "pid": os.getpid(), "warnings": warnings})
    children: dict[int, str] = {}
    stdin_fd = sys.stdin.fileno()
    buffer = b""
    open_input = True

    while open_input or children:
        readable, _, _ = select.select([stdin_fd, wake_r] if open_input else [wake_r], [], [], 1.0)
        if wake_r in readable:
            with contextlib.suppress(BlockingIOError):
                os.read(wake_r, 4096)
        _reap(children, emit)
        if stdin_fd not in readable:
            continue
        chunk = os.read(stdin_fd, 65536)
        if not chunk:  # the runner died: nobody will record these tasks, so stop them
            open_input = False
            _kill_all(children)
            continue
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            cmd = json.loads(line)
            if cmd["op"] == "quit":
                open_input = False
                break
            if not cmd.get("python"):
                _preload(cmd.get("preload") or [])
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    _drop_server_fds(channel.fileno(), wake_r, wake_w)
                    code = _run_child(cmd)
                except BaseException:
                    traceback.print_exc()
                finally:
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(code)
            children[pid] = cmd["id"]
            emit({"ev": "started", "id": cmd["id"], "pid": pid})
    channel.close()


def _drop_server_fds(*fds: int) -> None:
    """A task must not hold the server's pipes: an inherited copy of the event channel would keep
    it open after the server dies, so the runner would see no EOF (and report nothing) until every
    task had exited on its own."""
    signal.set_wakeup_fd(-1)
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)
    null = os.open(os.devnull, os.O_RDONLY)  # nor read the server's commands
    os.dup2(null, 0)
    os.close(null)


def _kill_all(children: dict[int, str]) -> None:
    for pid in children:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


def _reap(children: dict[int, str], emit) -> None:
    while children:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        task_id = children.pop(pid, None)
        if task_id is None:
            continue
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -(sig or 0)
        emit({
            "ev": "exited", "id": task_id, "pid": pid, "code": code, "signal": sig,
            "maxrss_kb": usage.ru_maxrss, "cpu_s": usage.ru_utime + usage.ru_stime,
        })


if __name__ == "__main__":
    serve(json.loads(sys.argv[1]) if len(sys.argv) > 1 else [])
    # Every child has been reaped and reported. Skip interpreter finalisation (tearing down pydantic,
    # the preloaded pipeline modules, ...): it made closing the pool take 30-60 ms of every run.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
