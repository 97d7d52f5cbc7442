"""Client-side cache resolution for a 100-task fully cached pipeline (`conveyor submit`).

A fully cached run must create no Workflow, and deciding that is the whole cost of such a
submit: walk the DAG, compute each key from the cached outputs upstream, look it up, verify
its artifacts. This seeds a metadata store (SQLite; also Postgres with --postgres-url) and a local
artifact store with entries for a 100-task chain (each task reads its predecessor's int and
Dataset), then times `conveyor.launcher.resolve_cached` alone and `conveyor.launcher.submit`
end to end (resolution + recording the run and its 100 cached task rows), with a kubernetes
client that fails the benchmark if it is ever called. Reported: medians over --rounds.
Run: .venv/bin/python bench/bench_submit.py [--tasks 100] [--rounds 15] [--postgres-url URL] [--json]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

SOURCE = """
from conveyor import dsl
from conveyor.dsl import Dataset, Input, Output

N = {n}


@dsl.component
def first(x: int, out: Output[Dataset]) -> int:
    open(out.path, "w").write(str(x))
    return x + 1


@dsl.component
def step(x: int, data: Input[Dataset], out: Output[Dataset]) -> int:
    open(out.path, "w").write(str(x))
    return x + 1


@dsl.pipeline(name="cached-chain")
def chain():
    prev = first(x=0)
    for _ in range(N - 1):
        prev = step(x=prev.outputs["Output"], data=prev.outputs["out"])
"""


class NoCluster:
    """A CustomObjectsApi stand-in: a fully cached submit must never reach the cluster."""

    def __getattr__(self, name):
        raise AssertionError(f"a fully cached submit called the kubernetes API ({name})")


def seed(spec, store, artifacts, work: Path) -> None:
    """Cache entries for every task, keyed exactly as resolution will key them."""
    from conveyor.ir.graph import topological_order
    from conveyor.ir.values import Constant, TaskOutput
    from conveyor.runtime.protocol.keys import task_key
    from conveyor.stores.metadata import CacheEntry

    outputs: dict[str, dict] = {}
    for i, task in enumerate(topological_order(spec)):
        component = spec.component_of(task)
        params, arts = {}, {}
        for name, arg in spec.tasks[task].arguments.items():
            if isinstance(arg, Constant):
                value = arg.value
            else:
                assert isinstance(arg, TaskOutput)
                produced = outputs[arg.task]
                value = produced["artifacts"].get(arg.output, produced["parameters"].get(arg.output))
            (arts if component.input(name).kind == "artifact" else params)[name] = value
        blob = work / f"out-{i}"
        blob.write_text(f"task {i}")
        stored = artifacts.put(blob)
        out = {
            "parameters": {"Output": i + 1},
            "artifacts": {
                "out": {
                    "type": "Dataset",
                    "name": "out",
                    "uri": stored.uri,
                    "digest": stored.digest,
                    "size": stored.size,
                    "metadata": {},
                }
            },
        }
        outputs[task] = out
        store.cache_put(
            CacheEntry(
                key=task_key(spec, task, params, arts),
                outputs=out,
                created_at=time.time(),
                duration_s=1.0,
                source_run_id="seed",
                source_task_id=task,
            )
        )


def bench_backend(label: str, url: str, spec, work: Path, rounds: int) -> dict:
    from pydantic import SecretStr

    from conveyor.launcher import resolve_cached, submit
    from conveyor.profile import Profile
    from conveyor.stores.artifacts import open_artifact_store
    from conveyor.stores.metadata import open_metadata_store

    root = (work / f"artifacts-{label}").as_uri()
    profile = Profile(cloud="aws", environment="bench", artifact_root=root, metadata_url=SecretStr(url),
                      image_registry="registry.bench/conveyor")
    store, artifacts = open_metadata_store(url), open_artifact_store(root)
    try:
        seed(spec, store, artifacts, work)
        resolve_s, submit_s = [], []
        for r in range(rounds):
            wall, res = common.timed(
                lambda r=r: resolve_cached(spec, {}, store, artifacts, run_id=f"probe-{r}")
            )
            assert res.complete and len(res.cached) == len(spec.tasks), (
                "the seeded pipeline is not fully cached"
            )
            resolve_s.append(wall)
            wall, run = common.timed(
                lambda r=r: submit(
                    spec,
                    {},
                    profile,
                    client=NoCluster(),
                    store=store,
                    artifacts=artifacts,
                    run_id=f"bench-{label}-{r}-{time.time_ns()}",
                )
            )
            assert run.status == "succeeded" and run.workflow is None
            submit_s.append(wall)
        return {
            f"{label}_resolve_median_ms": round(common.median(resolve_s) * 1000, 1),
            f"{label}_resolve_p90_ms": round(common.percentile(resolve_s, 90) * 1000, 1),
            f"{label}_submit_median_ms": round(common.median(submit_s) * 1000, 1),
        }
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--postgres-url", help="also measure against this (empty, disposable) Postgres database"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result: dict = {
        "benchmark": "submit_cache_resolution",
        "tasks": args.tasks,
        "rounds": args.rounds,
        "machine": common.machine(),
    }
    with common.workdir("submit") as work:
        module = common.write_module(work, "cached_chain", SOURCE.format(n=args.tasks))
        spec = common.load_pipeline(module).pipeline_spec
        assert len(spec.tasks) == args.tasks
        result.update(bench_backend("sqlite", f"sqlite:///{work / 'metadata.db'}", spec, work, args.rounds))
        if args.postgres_url:
            result.update(bench_backend("postgres", args.postgres_url, spec, work, args.rounds))
    common.emit(result, args.json)


if __name__ == "__main__":
    main()
