"""Argo compile time and manifest size: 10/100/1,000-task DAGs and a 10,000-item ParallelFor.

Run: ``.venv/bin/python bench/bench_compile.py [--json]``. Each DAG task reads the outputs
of two earlier tasks (i-1 and i//2), so the DAG has real fan-in and long edges. Compile
time is the best of several runs of ``compile_workflow`` on an already built IR (building
the IR with the DSL is reported separately). Sizes are the JSON bytes of the manifest,
with the spec referenced by URI (what ``conveyor submit`` sends) and embedded (what
``conveyor compile`` writes by default).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "pipelines"))

from conveyor import dsl  # noqa: E402
from conveyor.compiler.argo import CompileOptions, compile_workflow, to_yaml  # noqa: E402
from conveyor.profile import Profile  # noqa: E402

PROFILE = Profile(
    artifact_root="s3://bench/artifacts",
    metadata_url="postgresql://bench@db/conveyor",
    namespace="bench",
    service_account="conveyor",
    image_registry="registry.bench/conveyor",
)
BY_URI = CompileOptions(run_id="bench", spec_uri="s3://bench/specs/spec.json")
EMBEDDED = CompileOptions(run_id="bench")


@dsl.component
def step(a: int, b: int = 0) -> int:
    return a + b


@dsl.component
def echo(text: str) -> str:
    return text


def dag(n: int):
    @dsl.pipeline(name=f"dag-{n}")
    def pipeline():
        tasks = [step(a=0)]
        for i in range(1, n):
            tasks.append(step(a=tasks[i - 1].output, b=tasks[i // 2].output))

    return pipeline


def loop(items: list):
    @dsl.pipeline(name="loop")
    def pipeline():
        with dsl.ParallelFor(items, parallelism=16) as item:
            echo(text=item)

    return pipeline


def timed(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return min(samples) if repeat < 5 else statistics.median(samples)


def measure(label: str, pipeline, repeat: int) -> dict:
    start = time.perf_counter()
    spec = pipeline.pipeline_spec
    build_s = time.perf_counter() - start
    compile_s = timed(lambda: compile_workflow(spec, PROFILE, BY_URI), repeat)
    by_uri = compile_workflow(spec, PROFILE, BY_URI)
    embedded = compile_workflow(spec, PROFILE, EMBEDDED)
    return {
        "case": label,
        "tasks": len(spec.tasks),
        "dsl_build_s": round(build_s, 4),
        "compile_s": round(compile_s, 4),
        "templates": len(by_uri["spec"]["templates"]),
        "bytes_spec_by_uri": len(json.dumps(by_uri)),
        "yaml_bytes_spec_by_uri": len(to_yaml(by_uri)),
        "bytes_spec_embedded": len(json.dumps(embedded)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args()
    rows = [measure(f"DAG {n} tasks", dag(n), 7 if n < 1000 else 3) for n in (10, 100, 1000)]
    rows.append(
        measure("ParallelFor 10,000 literal strings", loop([f"shard-{i:05d}" for i in range(10_000)]), 5)
    )
    rows.append(measure("ParallelFor 10,000 range(10000)", loop(list(range(10_000))), 5))
    rows.append(measure("ParallelFor 100 literal strings", loop([f"shard-{i:05d}" for i in range(100)]), 5))
    if args.json:
        print(json.dumps({"results": rows, "python": sys.version.split()[0]}, indent=2))
        return
    cols = list(rows[0])
    print(" | ".join(cols))
    print(" | ".join("---" for _ in cols))
    for row in rows:
        print(" | ".join(str(row[c]) for c in cols))


if __name__ == "__main__":
    main()
