"""Per-task overhead: a chain of N no-op components, conveyor local vs kfp.local, in the same run.

Issue 3 target: <= 0.03 s per task and >= 10x faster than kfp.local
(`SubprocessRunner(use_venv=False)`), for N = 50.

What is timed (medians over --reps repetitions, interleaved so load drifts hit both sides):
- conveyor, in-process: `LocalRunner.run(spec, use_cache=False)` on a fresh runner, so the fork
  server start-up, the SQLite store and the run record are all inside ("cold");
- conveyor, marginal: (wall(N) - wall(1)) / (N - 1), the cost of one more task once the run is up;
- conveyor CLI: `conveyor run FILE --no-cache --json` as a fresh process (interpreter + imports);
- the anchor: calling the kfp pipeline after `kfp.local.init(runner=SubprocessRunner(use_venv=False))`,
  in two configurations:
  * best case, in this process: components with `install_kfp_package=False` (no pip in the task);
  * default (`--kfp-default-reps`, default 1): the very same file as conveyor's but for the import
    line, so each task first runs `pip install kfp` as kfp's component command does. The shared
    venv has no pip, so this runs in a private venv with the same kfp (bench/.work/, made with uv).
Run: .venv/bin/python bench/bench_chain.py [--tasks 50] [--reps 5] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

SOURCE = """
{imports}


@dsl.component{decorator_args}
def noop(x: int) -> int:
    return x + 1


@dsl.pipeline(name="chain-{n}")
def chain() -> int:
    task = noop(x=0)
    for _ in range({n} - 1):
        task = noop(x=task.output)
    return task.output
"""


def write_chain(directory: Path, n: int, flavour: str) -> Path:
    if flavour == "kfp_default":  # byte for byte the conveyor file but for the import line
        source = SOURCE.format(imports="from kfp import dsl", decorator_args="", n=n)
    elif flavour == "kfp":
        source = SOURCE.format(
            imports="from kfp import dsl", decorator_args="(install_kfp_package=False)", n=n
        )
    else:
        source = SOURCE.format(imports="from conveyor import dsl", decorator_args="", n=n)
    return common.write_module(directory, f"{flavour}_chain_{n}", source)


def run_conveyor(tmp: Path, module: Path, rep: int) -> float:
    pipeline = common.load_pipeline(module)
    wall, result = common.timed(
        lambda: common.run_conveyor(
            tmp / f"home-{module.stem}-{rep}", pipeline, module, use_cache=False, parallelism=2
        )
    )
    assert all(t.status == "succeeded" for t in result.tasks), result.tasks
    return wall


def run_kfp(module: Path) -> float:
    from conveyor.runtime.loader import load_module_file

    pipeline = load_module_file(module).chain
    logging.getLogger().setLevel(logging.WARNING)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        start = time.perf_counter()
        outcome = pipeline()
        wall = time.perf_counter() - start
    assert outcome.output is not None
    return wall


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--kfp-reps", type=int, default=None, help="anchor repetitions (default: --reps)")
    parser.add_argument(
        "--kfp-default-reps",
        type=int,
        default=1,
        help="runs of the anchor in its default configuration (pip install kfp in every task)",
    )
    parser.add_argument("--no-cli", action="store_true")
    parser.add_argument("--no-kfp", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    n = args.tasks
    kfp_reps = args.reps if args.kfp_reps is None else args.kfp_reps
    load_start = common.loadavg()
    conv, conv_one, cli, anchor, anchor_default = [], [], [], [], []
    default_error = None
    with common.workdir("chain") as tmp:
        mod_n, mod_1 = write_chain(tmp, n, "conveyor"), write_chain(tmp, 1, "conveyor")
        kfp_mod = write_chain(tmp, n, "kfp")
        kfp_default_mod = write_chain(tmp, n, "kfp_default")
        if not args.no_kfp:
            common.kfp_local_init(tmp)
        run_conveyor(tmp, mod_1, -1)  # warm the page cache and imports once; not counted
        for rep in range(args.reps):
            conv.append(run_conveyor(tmp, mod_n, rep))
            conv_one.append(run_conveyor(tmp, mod_1, rep))
            if not args.no_cli:
                cli.append(
                    common.run_cli(["run", str(mod_n), "--no-cache", "-j", "2"], tmp / f"cli-{rep}")[0]
                )
            if not args.no_kfp and rep < kfp_reps:
                anchor.append(run_kfp(kfp_mod))
            if not args.no_kfp and rep < args.kfp_default_reps and default_error is None:
                try:
                    anchor_default.append(common.run_kfp_default(kfp_default_mod, "chain", tmp))
                except RuntimeError as exc:
                    default_error = str(exc)[-500:]
    med = common.median(conv)
    marginal = (med - common.median(conv_one)) / (n - 1) if n > 1 else float("nan")
    result = {
        "benchmark": "chain",
        "tasks": n,
        "reps": args.reps,
        "kfp_reps": 0 if args.no_kfp else kfp_reps,
        "conveyor_wall_s": round(med, 4),
        "conveyor_per_task_s": round(med / n, 5),
        "conveyor_one_task_wall_s": round(common.median(conv_one), 4),
        "conveyor_marginal_per_task_s": round(marginal, 5),
        "conveyor_walls": [round(x, 4) for x in conv],
        "loadavg_start": [round(x, 2) for x in load_start],
    }
    if cli:
        result.update(
            cli_wall_s=round(common.median(cli), 4),
            cli_per_task_s=round(common.median(cli) / n, 5),
            cli_walls=[round(x, 4) for x in cli],
        )
    if anchor:
        k = common.median(anchor)
        result.update(
            kfp_wall_s=round(k, 4),
            kfp_per_task_s=round(k / n, 5),
            kfp_walls=[round(x, 4) for x in anchor],
            speedup=round(k / med, 2),
        )
        if cli:
            result["speedup_cli"] = round(k / common.median(cli), 2)
    if anchor_default:
        k = common.median(anchor_default)
        result.update(
            kfp_default_wall_s=round(k, 3),
            kfp_default_per_task_s=round(k / n, 4),
            kfp_default_reps=len(anchor_default),
            speedup_vs_default=round(k / med, 1),
        )
        if cli:
            result["speedup_cli_vs_default"] = round(k / common.median(cli), 1)
    elif default_error:
        result["kfp_default_error"] = default_error
    result["target_per_task_met"] = med / n <= 0.03
    if anchor:
        result["target_speedup_met"] = result["speedup"] >= 10
    if anchor_default:
        result["target_speedup_met_default"] = result["speedup_vs_default"] >= 10
    common.emit(result, args.json)
    return result


if __name__ == "__main__":
    main()
