"""Run every benchmark (each in its own interpreter) and write bench/RESULTS.md (`make bench`).

    .venv/bin/python bench/run_all.py                  # everything, full size (about 15-20 minutes)
    .venv/bin/python bench/run_all.py --only chain,warm
    .venv/bin/python bench/run_all.py --quick --out /tmp/r   # tiny sizes: does every script still run?

Raw results go to bench/results.json; with --only, the other benchmarks' previous results are kept,
so RESULTS.md always shows the latest number of each. The analysis below the notes marker in
RESULTS.md is hand-written and preserved.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import report  # noqa: E402

BENCH = Path(__file__).resolve().parent

# name -> (script, full-size arguments, quick arguments); ours print one JSON object with --json.
OURS = {
    "chain": (
        "bench_chain.py",
        ["--tasks", "50", "--reps", "7", "--kfp-reps", "5", "--kfp-default-reps", "1"],
        ["--tasks", "3", "--reps", "1", "--kfp-default-reps", "0"],
    ),
    "fanout": (
        "bench_fanout.py",
        [
            "--items",
            "1000",
            "--reps",
            "5",
            "--kfp-reps",
            "1",
            "--kfp-items",
            "200",
            "--kfp-default-items",
            "40",
        ],
        ["--items", "6", "--sleep", "0.001", "--reps", "1", "--kfp-reps", "0"],
    ),
    "warm": ("bench_warm.py", ["--reps", "5"], ["--reps", "1", "--cli-reps", "0"]),
    "cache": (
        "bench_cache.py",
        ["--entries", "1000000"],
        ["--entries", "2000", "--lookups", "50", "--rounds", "1", "--backend", "sqlite"],
    ),
}
# Scripts other engineers wrote: run as they are, output kept (JSON when they offer it).
THEIRS = {
    "compile": ("bench_compile.py", ["--json"]),
    "metrics": ("bench_metrics.py", []),
    "submit": ("bench_submit.py", ["--json"]),
}


def run_script(script: str, args: list[str], timeout: float) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(common.PIPELINES), str(common.ROOT)])}
    started = time.time()
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=common.ROOT,
    )
    out = {
        "script": script,
        "args": [re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", a) for a in args],  # no passwords in results
        "rc": proc.returncode,
        "wall_s": round(time.time() - started, 1),
        "date": time.strftime("%Y-%m-%d %H:%M", time.gmtime(started)) + " UTC",
    }
    if proc.returncode != 0:
        out["error"] = (proc.stderr or proc.stdout)[-3000:]
        return out
    text = proc.stdout.strip()
    try:
        out["result"] = json.loads(text)
    except json.JSONDecodeError:
        last = text.splitlines()[-1] if text else ""
        try:
            out["result"] = json.loads(last)
        except json.JSONDecodeError:
            out["text"] = text[-4000:]
    return out


def run_submit(script: str, extra: list[str], timeout: float) -> dict:
    """bench_submit.py measures Postgres too when given an empty database: give it a private server."""
    import bench_cache

    try:
        with bench_cache.private_postgres() as server:
            url = server.create_database("submit_bench")
            return run_script(script, [*extra, "--postgres-url", url], timeout)
    except BaseException as exc:  # noqa: BLE001 - the fixture helpers skip via pytest.skip
        if isinstance(exc, KeyboardInterrupt):
            raise
        out = run_script(script, extra, timeout)
        out["note"] = f"SQLite only: postgres could not start ({type(exc).__name__}: {exc})"
        return out


def metrics_numbers(text: str) -> dict:
    """bench_metrics.py prints prose; pull the numbers out of it."""
    found = {}
    if m := re.search(r"median ([\d.]+) us, p99 ([\d.]+) us", text):
        found.update(per_task_median_us=float(m.group(1)), per_task_p99_us=float(m.group(2)))
    if m := re.search(r"delivery.*median ([\d.]+) ms", text):
        found["delivery_median_ms"] = float(m.group(1))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated: " + ",".join([*OURS, *THEIRS]))
    parser.add_argument("--quick", action="store_true", help="tiny sizes; for the smoke test")
    parser.add_argument("--out", default=str(BENCH), help="where results.json and RESULTS.md go")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--render-only", action="store_true", help="rewrite RESULTS.md from results.json")
    args = parser.parse_args(argv)
    only = [x for x in args.only.split(",") if x]
    unknown = set(only) - set(OURS) - set(THEIRS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    raw_path = out_dir / "results.json"
    md = out_dir / "RESULTS.md"
    if args.render_only:
        md.write_text(report.render(json.loads(raw_path.read_text()), md.read_text() if md.exists() else ""))
        return 0
    previous = json.loads(raw_path.read_text()) if raw_path.exists() and not args.quick else {}
    results = previous.get("benchmarks", {})
    failed = []
    for name, (script, full, quick) in OURS.items():
        if only and name not in only:
            continue
        print(f"== {name}: {script}", flush=True)
        results[name] = run_script(script, [*(quick if args.quick else full), "--json"], args.timeout)
        failed += [name] if results[name]["rc"] else []
    for name, (script, extra) in THEIRS.items():
        if (only and name not in only) or not (BENCH / script).exists() or (args.quick and name != "metrics"):
            continue
        print(f"== {name}: {script}", flush=True)
        if name == "submit":
            results[name] = run_submit(script, extra, args.timeout)
        else:
            results[name] = run_script(script, extra, args.timeout)
        if name == "metrics" and "text" in results[name]:
            results[name]["result"] = metrics_numbers(results[name]["text"])
        failed += [name] if results[name]["rc"] else []
    data = {"machine": common.machine(), "benchmarks": results}
    raw_path.write_text(json.dumps(data, indent=1) + "\n")
    md.write_text(report.render(data, md.read_text() if md.exists() else ""))
    print(f"wrote {raw_path} and {md}")
    for name in failed:
        print(f"FAILED {name}:\n{results[name].get('error', '')}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
