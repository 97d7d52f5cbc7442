"""Runs on the real test cluster: wall time and pods per task, cold and fully cached; controller latency.

Uses the same platform as the e2e tests (``tests/cluster/platform.py``: Argo v4 built from source,
the task image, Postgres/moto on the bridge gateway) and the real CLI
(``conveyor submit --watch --json``), one fresh namespace per measurement, pods counted by watching
them (pod GC deletes succeeded pods). Measured:

* the training example, cold and re-submitted (its body cached; the exit handler's notify still
  runs, issue 12);
* a ``ParallelFor`` over 200 items (dynamic fan-out, parallelism 8), cold and fully cached;
* pods per task = pods created / task instances that ran (KFP v2 runs >= 2 per task: a driver
  pod and an executor pod, plus a DAG driver per DAG);
* controller latency: Workflow creationTimestamp -> first pod creationTimestamp (API server
  clock), and each pod's creation -> Running as the watch saw it (scheduling + kubelet start).

Needs a running cluster (``make cluster-up``) or root to start one (it is stopped again then).
``python bench/bench_cluster.py [--json] [--items 200]``; ``--append`` adds a section to RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "pipelines")]

from bench.common import emit, machine  # noqa: E402

KFP_PODS_PER_TASK = 2  # driver + executor (kfp v2 on Argo), before DAG drivers


def _measure(tenant, target: str, args: list[str], api) -> dict:
    from tests.cluster.pods import PodRecorder

    with PodRecorder(api, tenant.namespace) as pods:
        t0 = time.perf_counter()
        proc = tenant.submit(target, *args, "--watch", "--json", timeout=3600)
        wall = time.perf_counter() - t0
    if proc.returncode != 0:
        # The whole output goes to a file: a 200-item run's JSON is far longer than an error line.
        log = Path(tempfile.gettempdir()) / f"bench-cluster-{tenant.namespace}-{int(time.time())}.log"
        log.write_text(f"$ {target} {' '.join(args)}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}\n")
        raise RuntimeError(f"{target} failed (exit {proc.returncode}); full output in {log}: {proc.stderr[-1500:]}")
    data = json.loads(proc.stdout)
    print(f"{target} {' '.join(args)}: {wall:.1f} s", file=sys.stderr, flush=True)
    ran = [t for t in data["tasks"] if t["status"] == "succeeded"]
    history = pods.snapshot()
    out = {"wall_s": round(wall, 1), "tasks": len(data["tasks"]), "tasks_run": len(ran), "pods": len(history),
           "pods_per_task": round(len(history) / len(ran), 3) if ran else 0.0,
           "workflow_created": data["workflow"] is not None}
    starts = [next(t for t, ph in p.phases if ph == "Running") - p.created for p in history
              if any(ph == "Running" for _, ph in p.phases)]
    if starts:
        out["pod_create_to_running_s_median"] = round(statistics.median(starts), 2)
    if data["workflow"]:
        wf = next(w for w in tenant.workflows() if w["metadata"]["name"] == data["workflow"])
        created = _ts(wf["metadata"]["creationTimestamp"])
        if history:
            out["workflow_to_first_pod_s"] = round(min(p.created for p in history) - created, 1)
    return out


def _ts(text: str) -> float:
    import datetime

    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--append", action="store_true", help="append the results to bench/RESULTS.md")
    ns = parser.parse_args()

    from kubernetes import config

    from tests.cluster import harness
    from tests.cluster.conftest import Cluster
    from tests.cluster.platform import TRAINING, open_tenant, start_platform

    info = harness.running()
    started = info is None
    info = info or harness.up()
    api = config.new_client_from_config(config_file=info.kubeconfig)
    result: dict = {"benchmark": "cluster", "machine": machine(), "cluster_timings": info.timings}
    pipelines = str(ROOT / "tests" / "cluster" / "e2e_pipelines.py")
    try:
        with start_platform(Cluster(info, api)) as platform, tempfile.TemporaryDirectory() as tmp:
            result["platform_timings"] = platform.timings
            with open_tenant(platform, Path(tmp) / "a") as tenant:
                reg = ["-p", f"registry_root=/tmp/conveyor-bench-registry-{tenant.namespace}"]
                result["training_cold"] = _measure(tenant, str(TRAINING), reg, api)
                print(json.dumps(result["training_cold"]), file=sys.stderr, flush=True)
                # re-submit: the body is cached; the exit handler's notify runs every run (issue 12)
                result["training_cached"] = _measure(tenant, str(TRAINING), reg, api)
                print(json.dumps(result["training_cached"]), file=sys.stderr, flush=True)
            with open_tenant(platform, Path(tmp) / "b") as tenant:
                args = ["-p", f"n={ns.items}"]
                result[f"parallel_for_{ns.items}_cold"] = _measure(tenant, f"{pipelines}:fanout", args, api)
                print(json.dumps(result[f"parallel_for_{ns.items}_cold"]), file=sys.stderr, flush=True)
                result[f"parallel_for_{ns.items}_cached"] = _measure(tenant, f"{pipelines}:fanout", args, api)
    finally:
        api.close()
        if started:
            harness.down()
    result["kfp_v2_pods_per_task_floor"] = KFP_PODS_PER_TASK
    emit(result, ns.json)
    if ns.append:
        append_results(result, ns.items)
    return 0


def append_results(result: dict, items: int) -> None:
    m = result["machine"]
    rows = []
    for key, label in (("training_cold", "training example, cold"), ("training_cached", "training example, fully cached"),
                       (f"parallel_for_{items}_cold", f"ParallelFor {items} items, cold"),
                       (f"parallel_for_{items}_cached", f"ParallelFor {items} items, fully cached")):
        r = result[key]
        rows.append(f"| {label} | {r['wall_s']} | {r['tasks_run']} | {r['pods']} | {r['pods_per_task']} | "
                    f"{r.get('workflow_to_first_pod_s', '-')} | {r.get('pod_create_to_running_s_median', '-')} |")
    text = "\n".join([
        "", f"## Real cluster (issue 11, `bench/bench_cluster.py`), {m['date']}", "",
        f"Machine: {m['cpu'].get('Model name', '?')}, {m['cpu'].get('CPU(s)', '?')} vCPUs, {m['memory']}, "
        f"load average at start {m['loadavg']}. Kubernetes v1.34.4 + Argo v4.0.5 (built from source, one node), "
        "real pods, `conveyor submit --watch`.", "",
        "| run | wall s | tasks run | pods | pods/task | Workflow -> first pod s | pod create -> Running s (median) |",
        "|---|---|---|---|---|---|---|", *rows, "",
        f"KFP v2 on Argo runs at least {KFP_PODS_PER_TASK} pods per task (driver + executor), plus DAG drivers.", ""])
    with (ROOT / "bench" / "RESULTS.md").open("a") as fh:
        fh.write(text)


if __name__ == "__main__":
    sys.exit(main())
