"""`conveyor plan --stack local` without a kubeconfig: one warning line on stderr, nothing after it.

Pulumi's runtime left its event loops open, so at exit the interpreter printed
`Exception ignored in: <function BaseEventLoop.__del__ ...>` and unclosed sockets after the
message. ResourceWarnings are made errors here so a leaked loop always shows, not only when the
garbage collector happens to run late.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_plan_local_without_kubeconfig_prints_exactly_one_message(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env.update(HOME=str(tmp_path), PYTHONWARNINGS="error::ResourceWarning", COLUMNS="200")
    proc = subprocess.run([sys.executable, "-m", "conveyor", "plan", "--stack", "local"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Plan for stack local" in proc.stdout
    assert proc.stderr.splitlines() == [
        f"no kubeconfig at {tmp_path}/.kube/config; set `pulumi config set --secret kubeconfig < FILE`"
    ]


def test_repeated_in_process_runs_leave_no_event_loop_open(tmp_path):
    code = (
        "import warnings, gc; warnings.simplefilter('error', ResourceWarning)\n"
        "from conveyor.platform.mocks import run_program\n"
        f"for _ in range(2): run_program({str(ROOT)!r}, 'local')\n"
        "gc.collect()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env.update(HOME=str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Exception ignored" not in proc.stderr and "unclosed" not in proc.stderr, proc.stderr
