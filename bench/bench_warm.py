"""Warm re-run of the training example: every task cached, under 1 s and under 2 % of the cold run.

Per repetition, on a fresh CONVEYOR_HOME (its own SQLite DB and artifact store):
- in-process: a cold `LocalRunner.run` (everything computes), then a warm one on a new runner
  (every task must come from the cache, verified against its artifact digests);
- CLI: `conveyor run pipelines/examples/training.py --json`, cold then warm, as fresh processes,
  so interpreter start-up, imports, loading the pipeline file and the store's migration check count.
It also reports where the CLI's fixed cost goes: `conveyor --help`, and the heaviest imports of
`conveyor run` from `python -X importtime`.

kfp.local has no cache (every run recomputes), so the anchor here is the cold run itself.
Run: .venv/bin/python bench/bench_warm.py [--reps 5] [--json]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

EXAMPLE = common.ROOT / "pipelines" / "examples" / "training.py"


def in_process(home: Path, registry: Path) -> tuple[float, float, int, int]:
    pipeline = common.load_pipeline(EXAMPLE)
    args = {"registry_root": str(registry)}
    cold, _ = common.timed(lambda: common.run_conveyor(home, pipeline, EXAMPLE, args))
    warm, result = common.timed(lambda: common.run_conveyor(home, pipeline, EXAMPLE, args))
    cached = sum(t.status == "cached" for t in result.tasks)
    return cold, warm, cached, len(result.tasks)


def cli(home: Path, registry: Path) -> tuple[float, float, int, int]:
    args = ["run", str(EXAMPLE), "-p", f"registry_root={registry}"]
    cold, _ = common.run_cli(args, home, cwd=home.parent)
    warm, data = common.run_cli(args, home, cwd=home.parent)
    cached = sum(t["status"] == "cached" for t in data["tasks"])
    return cold, warm, cached, len(data["tasks"])


def help_wall(reps: int) -> float:
    walls = []
    for _ in range(reps):
        wall, _ = common.timed(
            lambda: subprocess.run(
                [str(common.VENV_BIN / "conveyor"), "--help"], capture_output=True, check=True
            )
        )
        walls.append(wall)
    return common.median(walls)


def heaviest_imports(home: Path, registry: Path, top: int = 10) -> tuple[list[tuple[str, float]], float]:
    """Cumulative import time (ms) of the top-level imports of a warm `conveyor run` (lazy ones included)."""
    env = {**os.environ, "CONVEYOR_HOME": str(home)}
    proc = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "conveyor",
            "run",
            str(EXAMPLE),
            "--json",
            "-p",
            f"registry_root={registry}",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=home.parent,
        timeout=600,
    )
    totals: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        if not line.startswith("import time:") or len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        if parts[2].startswith("  "):  # nested: already counted in its top-level importer
            continue
        name = parts[2].strip()
        totals[name] = totals.get(name, 0.0) + int(parts[1]) / 1000
    ranked = sorted(((k, round(v, 1)) for k, v in totals.items()), key=lambda kv: -kv[1])[:top]
    return ranked, round(sum(totals.values()), 1)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--cli-reps", type=int, default=None, help="CLI repetitions (default: --reps)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    cli_reps = args.reps if args.cli_reps is None else args.cli_reps
    load_start = common.loadavg()
    ip_cold, ip_warm, cl_cold, cl_warm = [], [], [], []
    cached = []
    with common.workdir("warm") as tmp:
        for rep in range(args.reps):
            cold, warm, hit, total = in_process(tmp / f"ip-{rep}" / "home", tmp / f"ip-{rep}" / "registry")
            ip_cold.append(cold)
            ip_warm.append(warm)
            cached.append(f"{hit}/{total}")
            if rep < cli_reps:
                cold, warm, hit, total = cli(tmp / f"cli-{rep}" / "home", tmp / f"cli-{rep}" / "registry")
                cl_cold.append(cold)
                cl_warm.append(warm)
                cached.append(f"{hit}/{total}")
        imports, imports_total = (
            heaviest_imports(tmp / "cli-0" / "home", tmp / "cli-0" / "registry") if cl_cold else ([], 0.0)
        )
        help_s = help_wall(3)
    warm, cold = common.median(ip_warm), common.median(ip_cold)
    all_cached = all(c.split("/")[0] == c.split("/")[1] for c in cached)
    result = {
        "benchmark": "warm",
        "reps": args.reps,
        "cli_reps": cli_reps,
        "cached": sorted(set(cached)),
        "inprocess_cold_s": round(cold, 3),
        "inprocess_warm_s": round(warm, 3),
        "inprocess_warm_pct_of_cold": round(100 * warm / cold, 2),
        "inprocess_warm_walls": [round(x, 3) for x in ip_warm],
        "loadavg_start": [round(x, 2) for x in load_start],
        "target_met_inprocess": all_cached and warm < 1.0 and warm < 0.02 * cold,
    }
    if cl_cold:
        c_cold, c_warm = common.median(cl_cold), common.median(cl_warm)
        result.update(
            cli_cold_s=round(c_cold, 3),
            cli_warm_s=round(c_warm, 3),
            cli_warm_pct_of_cold=round(100 * c_warm / c_cold, 2),
            cli_warm_walls=[round(x, 3) for x in cl_warm],
            cli_help_s=round(help_s, 3),
            cli_imports_total_ms=imports_total,
            cli_heaviest_imports_ms=imports,
            target_met_cli=all_cached and c_warm < 1.0 and c_warm < 0.02 * c_cold,
        )
    common.emit(result, args.json)
    return result


if __name__ == "__main__":
    main()
