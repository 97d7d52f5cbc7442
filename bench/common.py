"""Shared helpers for the benchmarks: timing, medians, the machine description, pipeline files.

Every benchmark writes its pipelines to a temp directory as real files (task processes import
their module file, exactly like `conveyor run FILE`), runs the anchor (`kfp.local` with
`SubprocessRunner(use_venv=False)`) in the same process when it compares against one, and prints
one JSON object with medians so `run_all.py` can build RESULTS.md.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# CONVEYOR_BENCH_PIPELINES=DIR benchmarks another copy of the package (e.g. `git archive` of an older
# commit) with these same scripts: an A/B comparison on one machine in one sitting.
PIPELINES = Path(os.environ.get("CONVEYOR_BENCH_PIPELINES") or ROOT / "pipelines")
if str(PIPELINES) not in sys.path:
    sys.path.insert(0, str(PIPELINES))
VENV_BIN = Path(sys.executable).parent


def loadavg() -> tuple[float, float, float]:
    return os.getloadavg()


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


@contextlib.contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    """A temp dir that is removed afterwards (unless CONVEYOR_BENCH_KEEP=1)."""
    path = Path(tempfile.mkdtemp(prefix=f"conveyor-bench-{prefix}-"))
    try:
        yield path
    finally:
        if os.environ.get("CONVEYOR_BENCH_KEEP") != "1":
            subprocess.run(["rm", "-rf", str(path)], check=False)


def write_module(directory: Path, name: str, source: str) -> Path:
    path = directory / f"{name}.py"
    path.write_text(source)
    return path


def load_pipeline(path: Path, name: str | None = None) -> Any:
    from conveyor.runtime.loader import find_pipeline

    return find_pipeline(str(path), name)


def conveyor_runner(home: Path):
    """A LocalRunner on a private CONVEYOR_HOME (its own SQLite DB and artifact folder)."""
    from conveyor.executor.run import LocalRunner

    return LocalRunner(home=home)


def run_conveyor(home: Path, pipeline: Any, module: Path, arguments: dict | None = None, **options: Any):
    """One in-process run through LocalRunner, cold: the fork server starts inside it."""
    from conveyor.executor.run import RunOptions

    runner = conveyor_runner(home)
    try:
        result = runner.run(
            pipeline.pipeline_spec, arguments or {}, options=RunOptions(**options), preload=[str(module)]
        )
    finally:
        runner.close()
    if not result.succeeded:
        raise RuntimeError(f"conveyor run failed: {result.error}")
    return result


def run_cli(args: list[str], home: Path, cwd: Path | None = None) -> tuple[float, dict]:
    """Wall time of `conveyor ARGS --json` as a fresh process (interpreter start-up included)."""
    env = {**os.environ, "CONVEYOR_HOME": str(home)}
    if cwd is not None:
        cwd.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    proc = subprocess.run(
        [str(VENV_BIN / "conveyor"), *args, "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=1800,
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"conveyor {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return wall, json.loads(proc.stdout)


def kfp_local_init(root: Path) -> None:
    """The anchor: kfp.local running each task as a subprocess in the current environment."""
    from kfp import local

    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(root / "kfp_root"))


def machine() -> dict[str, Any]:
    def sh(cmd: str) -> str:
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    cpu = {}
    for line in sh("lscpu").splitlines():
        key, _, value = line.partition(":")
        if key.strip() in {"Model name", "CPU(s)", "Thread(s) per core", "Architecture", "Hypervisor vendor"}:
            cpu[key.strip()] = value.strip()
    try:
        import kfp

        kfp_version = kfp.__version__
    except ImportError:
        kfp_version = None
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu,
        "memory": sh('free -h | awk \'/^Mem:/ {print $2 " total, " $7 " available"}\''),
        "kfp": kfp_version,
        "loadavg": [round(x, 2) for x in loadavg()],
    }


def emit(result: dict[str, Any], as_json: bool) -> None:
    """Print the result: JSON for run_all.py, or a readable summary."""
    result.setdefault("loadavg_end", [round(x, 2) for x in loadavg()])
    if as_json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:>28}: {value}")


# -- the anchor in its default configuration ---------------------------------------------------
# kfp's lightweight components `pip install kfp` inside every task unless install_kfp_package=False.
# The shared .venv has no pip, so that configuration runs in a private venv with pip and the same
# kfp version, under bench/.work/ (git-ignored). Timed inside that interpreter, around the call.
ANCHOR_VENV = ROOT / "bench" / ".work" / "kfp-anchor-venv"
_ANCHOR_SCRIPT = """
import importlib.util, json, logging, sys, time, contextlib, io
from kfp import local
path, func, root, kwargs = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=root)
spec = importlib.util.spec_from_file_location("anchor_module", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
logging.getLogger().setLevel(logging.WARNING)
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    start = time.perf_counter()
    getattr(module, func)(**kwargs)
    wall = time.perf_counter() - start
print(json.dumps({"wall_s": wall}))
"""


def anchor_venv() -> tuple[Path | None, str]:
    """The default-configuration anchor's interpreter, created on first use; (None, why) if impossible."""
    python = ANCHOR_VENV / "bin" / "python"
    if python.exists():
        return python, ""
    try:
        import kfp

        version = kfp.__version__
    except ImportError:
        return None, "kfp is not installed in this environment"
    uv = VENV_BIN / "uv" if (VENV_BIN / "uv").exists() else shutil.which("uv")
    if not uv:
        return None, "uv not found (needed to build the anchor's venv)"
    for cmd in (
        [str(uv), "venv", "-q", "--seed", "--python", sys.executable, str(ANCHOR_VENV)],
        [str(uv), "pip", "install", "-q", "--python", str(python), f"kfp=={version}"],
    ):
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            return None, f"{' '.join(cmd[:3])} failed: {proc.stderr.strip()[-300:]}"
    return python, ""


def run_kfp_default(module: Path, func: str, root: Path, kwargs: dict | None = None) -> float:
    python, why = anchor_venv()
    if python is None:
        raise RuntimeError(why)
    proc = subprocess.run(
        [
            str(python),
            "-c",
            _ANCHOR_SCRIPT,
            str(module),
            func,
            str(root / "kfp_default_root"),
            json.dumps(kwargs or {}),
        ],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"kfp.local (default config) failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])["wall_s"]
