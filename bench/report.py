"""Render bench/results.json as bench/RESULTS.md: machine, a summary table, one table per benchmark.

Everything above NOTES_MARKER is generated; everything below it (the analysis) is kept as written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

GPU_DIR = Path(__file__).resolve().parent / "gpu"

NOTES_MARKER = "<!-- hand-written notes below this line are kept by run_all.py -->"


def _yes(flag: Any) -> str:
    return "n/a" if flag is None else ("**yes**" if flag else "**no**")


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join("" if c is None else str(c) for c in row) + " |" for row in rows]
    return out + [""]


def _res(data: dict, name: str) -> dict | None:
    entry = data["benchmarks"].get(name)
    return entry.get("result") if entry and entry.get("rc") == 0 else None


def _when(data: dict, name: str) -> str:
    entry = data["benchmarks"].get(name) or {}
    res = entry.get("result") or {}
    load = res.get("loadavg_start")
    bits = [f"`{entry.get('script', '')} {' '.join(entry.get('args', []))}`"]
    if entry.get("date"):
        bits.append(f"run {entry['date']}")
    if load:
        bits.append(f"load average at start {load[0]} (1 min) / {load[1]} (5 min)")
    return "; ".join(bits) + "."


def summary(data: dict) -> list[str]:
    rows: list[list[Any]] = []
    if r := _res(data, "chain"):
        label = f"{r['tasks']}-task no-op chain, per task, in-process, cold"
        if "kfp_default_per_task_s" in r:
            rows.append(
                [
                    f"{label} — vs kfp.local default config",
                    f"{r['conveyor_per_task_s']} s",
                    f"{r['kfp_default_per_task_s']} s",
                    f"{r['speedup_vs_default']}×",
                    "≤ 0.03 s and ≥ 10×",
                    _yes(r["target_per_task_met"] and r.get("target_speedup_met_default")),
                ]
            )
        rows.append(
            [
                ("… same" if "kfp_default_per_task_s" in r else label)
                + " — vs kfp.local best case (`install_kfp_package=False`)",
                f"{r['conveyor_per_task_s']} s",
                f"{r.get('kfp_per_task_s', '—')} s",
                f"{r.get('speedup', '—')}×",
                "≤ 0.03 s and ≥ 10×",
                _yes(r["target_per_task_met"] and r.get("target_speedup_met")),
            ]
        )
        if "cli_per_task_s" in r:
            rows.append(
                [
                    "… same, as a `conveyor run --no-cache` CLI process (vs default / best case)",
                    f"{r['cli_per_task_s']} s",
                    "",
                    f"{r.get('speedup_cli_vs_default', '—')}× / {r.get('speedup_cli', '—')}×",
                    "(informational)",
                    "",
                ]
            )
    if r := _res(data, "fanout"):
        anchor = "/".join(f"{r[k]} %" for k in ("kfp_default_overhead_pct", "kfp_overhead_pct") if k in r)
        ratio = "/".join(f"{r[k]}×" for k in ("speedup_vs_default", "speedup") if k in r)
        what = (
            f"ParallelFor {r['items']} × {int(r['sleep_s'] * 1000)} ms sleep, parallelism {r['parallelism']}"
        )
        if "overhead_beyond_processes_pct" in r:
            rows.append(
                [
                    f"{what}: scheduler overhead beyond the task processes' own cost",
                    f"{r['overhead_beyond_processes_pct']} %",
                    "",
                    "",
                    "< 10 %",
                    _yes(r["target_met"]),
                ]
            )
        rows.append(
            [
                "… same, overhead over the ideal N × S / P (process start-up counted; anchor: default / "
                "best case)",
                f"{r['overhead_pct']} %",
                anchor or "—",
                f"{ratio} per task" if ratio else "",
                "(strict reading)",
                _yes(r.get("target_met_strict", r["target_met"])),
            ]
        )
    if r := _res(data, "warm"):
        rows.append(
            [
                "Warm re-run of training example, in-process",
                f"{r['inprocess_warm_s']} s ({r['inprocess_warm_pct_of_cold']} % of cold)",
                "no cache",
                "",
                "all cached, < 1 s, < 2 % of cold",
                _yes(r["target_met_inprocess"]),
            ]
        )
        if "cli_warm_s" in r:
            rows.append(
                [
                    "… same, `conveyor run` CLI process",
                    f"{r['cli_warm_s']} s ({r['cli_warm_pct_of_cold']} % of cold)",
                    "no cache",
                    "",
                    "all cached, < 1 s, < 2 % of cold",
                    _yes(r["target_met_cli"]),
                ]
            )
    if r := _res(data, "cache"):
        for backend in ("sqlite", "postgres"):
            b = r.get(backend)
            if not b:
                continue
            if "skipped" in b:
                rows.append([f"Cache lookup, {backend}", b["skipped"], "", "", "p99 < 5 ms", "not run"])
                continue
            rows.append(
                [
                    f"Cache lookup p99, {b['entries']:,} entries, {backend}",
                    f"{b['p99_ms']} ms",
                    "no cache",
                    "",
                    "p99 < 5 ms",
                    _yes(b["target_met"]),
                ]
            )
    if (r := _res(data, "metrics")) and "per_task_median_us" in r:
        rows.append(
            [
                "Metrics overhead per task (bench_metrics.py)",
                f"{r['per_task_median_us']} µs median",
                "",
                "",
                "< 1 ms",
                _yes(r["per_task_median_us"] < 1000),
            ]
        )
    return _table(["benchmark", "conveyor", "kfp.local (anchor)", "ratio", "target", "met?"], rows)


def chain(r: dict) -> list[str]:
    rows = [
        ["in-process, cold (fork server start included)", r["conveyor_wall_s"], r["conveyor_per_task_s"]],
        ["in-process, 1-task pipeline (fixed cost)", r["conveyor_one_task_wall_s"], ""],
        ["in-process, marginal cost of one more task", "", r["conveyor_marginal_per_task_s"]],
    ]
    if "cli_wall_s" in r:
        rows.append(["`conveyor run --no-cache` CLI process", r["cli_wall_s"], r["cli_per_task_s"]])
    if "kfp_default_wall_s" in r:
        rows.append(
            [
                f"kfp.local SubprocessRunner(use_venv=False), default config ({r['kfp_default_reps']} run)",
                r["kfp_default_wall_s"],
                r["kfp_default_per_task_s"],
            ]
        )
    if "kfp_wall_s" in r:
        rows.append(
            [
                "kfp.local SubprocessRunner(use_venv=False), `install_kfp_package=False`",
                r["kfp_wall_s"],
                r["kfp_per_task_s"],
            ]
        )
    out = [
        f"Medians of {r['reps']} runs (kfp.local best case: {r['kfp_reps']}). Speed-up in-process "
        f"{r.get('speedup_vs_default', '—')}× (default config) / {r.get('speedup', '—')}× (best case); CLI "
        f"{r.get('speedup_cli_vs_default', '—')}× / {r.get('speedup_cli', '—')}×. "
        f"Conveyor walls: {r['conveyor_walls']}; kfp walls: {r.get('kfp_walls', '—')}.",
        "",
    ]
    return out + _table(["what", f"wall for {r['tasks']} tasks (s)", "per task (s)"], rows)


def fanout(r: dict) -> list[str]:
    rows = [
        ["ideal (N × S / P)", r["ideal_wall_s"], "", ""],
        ["conveyor", r["conveyor_wall_s"], f"{r['overhead_pct']} %", r["per_task_overhead_ms"]],
    ]
    if "kfp_default_wall_s" in r:
        rows.append(
            [
                f"kfp.local default config ({r['kfp_default_items']} items, 1 run)",
                r["kfp_default_wall_s"],
                f"{r['kfp_default_overhead_pct']} %",
                r["kfp_default_per_task_overhead_ms"],
            ]
        )
    if "kfp_wall_s" in r:
        rows.append(
            [
                f"kfp.local best case ({r['kfp_items']} items, {r['kfp_reps']} run)",
                r["kfp_wall_s"],
                f"{r['kfp_overhead_pct']} %",
                r["kfp_per_task_overhead_ms"],
            ]
        )
    if "bare_processes_per_task_ms" in r:
        rows.insert(
            1,
            [
                "the same task processes, no scheduler (fork server only, P at a time)",
                round(r["bare_processes_per_task_ms"] * r["items"] / 1000, 3),
                f"{round(100 * (r['bare_processes_per_task_ms'] * r['items'] / 1000 / r['ideal_wall_s'] - 1), 1)} %",
                round(r["bare_processes_per_task_ms"] * r["parallelism"] - r["sleep_s"] * 1000, 2),
            ],
        )
    out = [f"Medians of {r['reps']} runs; walls {r['conveyor_walls']}.", ""]
    if "overhead_beyond_processes_pct" in r:
        out += [
            f"**Scheduler overhead beyond the processes' own cost: {r['overhead_beyond_processes_pct']} %** "
            "(conveyor's wall per task over the bare processes' wall per task, minus 1). Slots idle between "
            f"tasks (wall over the sum of recorded task spans / P): {r['scheduler_only_overhead_pct']} %.",
            "",
        ]
    return out + _table(["what", "wall (s)", "overhead over ideal", "per-task overhead per slot (ms)"], rows)


def warm(r: dict) -> list[str]:
    rows = [
        [
            "in-process (LocalRunner)",
            r["inprocess_cold_s"],
            r["inprocess_warm_s"],
            f"{r['inprocess_warm_pct_of_cold']} %",
        ]
    ]
    if "cli_cold_s" in r:
        rows.append(
            ["`conveyor run` CLI process", r["cli_cold_s"], r["cli_warm_s"], f"{r['cli_warm_pct_of_cold']} %"]
        )
    out = _table(["what", "cold (s)", "warm (s)", "warm / cold"], rows)
    out.append(
        f"Cached tasks per warm run: {', '.join(r['cached'])}. Warm walls in-process: {r['inprocess_warm_walls']}"
        + (f"; CLI: {r['cli_warm_walls']}." if "cli_warm_walls" in r else ".")
    )
    if "cli_help_s" in r:
        out += [
            "",
            f"`conveyor --help` takes {r['cli_help_s']} s. Import time of a warm `conveyor run` under "
            f"`-X importtime` (which inflates it): {r['cli_imports_total_ms']} ms in all; heaviest top-level "
            "imports (ms): " + ", ".join(f"`{k}` {v}" for k, v in r["cli_heaviest_imports_ms"]) + ".",
        ]
    return out + [""]


def cache(r: dict) -> list[str]:
    rows = []
    for backend in ("sqlite", "postgres"):
        b = r.get(backend)
        if b and "skipped" not in b:
            rows.append(
                [
                    backend,
                    f"{b['entries']:,}",
                    b["load_s"],
                    b["lookups"],
                    b["p50_ms"],
                    b["p99_ms"],
                    b["median_round_p99_ms"],
                    b["hit_p99_ms"],
                    b["miss_p99_ms"],
                    b["max_ms"],
                    b.get("control_p99_ms", ""),
                ]
            )
    return _table(
        [
            "backend",
            "entries",
            "bulk load (s)",
            "lookups",
            "p50 (ms)",
            "p99 (ms)",
            "median per-round p99 (ms)",
            "hits p99 (ms)",
            "misses p99 (ms)",
            "max (ms)",
            "noise floor p99 (ms)",
        ],
        rows,
    )


def compile_(r: dict) -> list[str]:
    rows = r.get("results", [])
    if not rows:
        return []
    cols = list(rows[0])
    return _table(cols, [[row.get(c) for c in cols] for row in rows])


def render(data: dict, previous: str) -> str:
    m = data["machine"]
    cpu = m.get("cpu", {})
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`bench/run_all.py`); raw numbers in `bench/results.json`. The anchor is "
        "`kfp.local` with `SubprocessRunner(use_venv=False)`, run in the same process as conveyor's side. "
        "Medians unless stated. The machine is shared with other engineers' test runs, so the load "
        "average is given for every benchmark: treat single numbers with care.",
        "",
        "## Machine",
        "",
        f"- CPU: {cpu.get('Model name', '?')}, {cpu.get('CPU(s)', '?')} CPU(s), {cpu.get('Architecture', '')}"
        + (f", hypervisor {cpu['Hypervisor vendor']}" if cpu.get("Hypervisor vendor") else ""),
        f"- Memory: {m.get('memory', '?')}",
        f"- Python {m.get('python')}, kfp {m.get('kfp')}, {m.get('platform')}",
        f"- Written {m.get('date')}; load average then {m.get('loadavg')}",
        "",
        "## Summary",
        "",
    ]
    lines += summary(data)
    sections = [
        ("chain", "Per-task overhead: chain of no-op components", chain),
        ("fanout", "ParallelFor fan-out, parallelism 2", fanout),
        ("warm", "Warm re-run of the training example", warm),
        ("cache", "Cache lookup in a large cache", cache),
        ("compile", "Argo compile (bench_compile.py)", compile_),
    ]
    for name, title, fn in sections:
        r = _res(data, name)
        entry = data["benchmarks"].get(name)
        if entry is None:
            continue
        lines += [f"## {title}", "", _when(data, name), ""]
        lines += (
            fn(r)
            if r
            else [f"Failed (rc {entry.get('rc')}):", "", "```", entry.get("error", "")[-1500:], "```", ""]
        )
    for name in ("metrics", "submit"):
        entry = data["benchmarks"].get(name)
        if not entry:
            continue
        lines += [
            f"## {entry['script']} (written by another engineer; run here as is)",
            "",
            _when(data, name),
            "",
        ]
        result = entry.get("result")
        if isinstance(result, dict) and result:
            lines += _table(
                ["measure", "value"],
                [[k, v] for k, v in result.items() if k not in ("machine", "loadavg_end")],
            )
        if entry.get("text") or entry.get("error"):
            lines += ["```", (entry.get("text") or entry.get("error", "")).strip(), "```", ""]
    for path in sorted(GPU_DIR.glob("*.txt")):
        lines += [
            f"## GPU device check: `bench/gpu/{path.name}` (measured by another engineer on a lent GPU)",
            "",
            "Output of `bench/gpu/check.sh` (the GPU example pipeline under the local executor), verbatim:",
            "",
            "```",
            path.read_text().strip(),
            "```",
            "",
        ]
    notes = (
        previous.split(NOTES_MARKER, 1)[1] if NOTES_MARKER in previous else "\n\n## Analysis\n\n(none yet)\n"
    )
    return "\n".join(lines) + "\n" + NOTES_MARKER + notes
