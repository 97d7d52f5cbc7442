#!/usr/bin/env bash
# Device check (run on a lent GPU machine, see bench/RESULTS.md): the GPU example pipeline under
# the local executor. Proves GPU detection, one-GPU-per-task packing and CUDA_VISIBLE_DEVICES.
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD/pipelines:${PYTHONPATH:-}" CONVEYOR_HOME=/tmp/conveyor-gpu
{
  nvidia-smi -L
  python3 -c "from conveyor.executor.resources import Capacity; print('capacity', Capacity.detect())"
  python3 -m conveyor run pipelines/examples/gpu_train.py --json > "$OUT/gpu_run.json"; echo "exit $?"
  python3 - "$OUT/gpu_run.json" <<'PY'
import json, sys
from conveyor.stores.metadata import open_metadata_store
run = json.load(open(sys.argv[1]))
store = open_metadata_store()
print("status", run["status"], "outputs", run["outputs"])
for t in run["tasks"]:
    print(t["name"], t["status"], t["duration_s"], t["peak_rss_mb"])
for a in store.find_artifacts(run_id=run["run_id"]):
    if a.type_name == "Metrics":
        print(a.producer_task_id, a.metadata)
tasks = {t.task_id: t for t in store.list_tasks(run["run_id"])}
spans = sorted((t.started_at, t.ended_at, k) for k, t in tasks.items() if k.startswith("train"))
overlap = any(spans[i + 1][0] < spans[i][1] for i in range(len(spans) - 1))
print("gpu tasks overlapped on one GPU:", overlap)
PY
  python3 -m conveyor run pipelines/examples/gpu_train.py --json | python3 -c "import json,sys; d=json.load(sys.stdin); print('warm', d['status'], sorted({t['status'] for t in d['tasks']}), d['duration_s'])"
} 2>&1 | tee "$OUT/gpu_check.txt"
