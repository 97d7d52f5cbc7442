"""Parity contract: every task of the examples, executed as a local process and through the pod
entrypoint (``conveyor.runtime.pod``), against the same Postgres + moto S3, records the same task,
attempt, cache and artifact rows - field by field, except the fields listed below (where it ran,
when, and for how long).

How: the example runs locally (run L). The cache is emptied, then each task L executed is run again
as a pod of run P, given exactly the inputs L's request held (as the text Argo would pass). Both
runs then compute their keys, leases and records through ``conveyor.runtime.protocol``.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest

from conveyor.ir.values import TaskFinalStatus
from conveyor.runtime import pod
from conveyor.runtime.pod.argv import PodArgs
from conveyor.runtime.pod.inputs import instance_id
from conveyor.runtime.protocol.codec import artifact_ref, text_form
from conveyor.runtime.protocol.messages import TaskRequest
from conveyor.runtime.protocol.tasklog import is_log
from tests.pipelines.examples.example_loader import EXAMPLES, load_example

pytestmark = pytest.mark.services

# Host, pid and timing fields: the only ones allowed to differ.
VOLATILE = {
    "task": {"run_id", "task_id", "created_at", "updated_at", "started_at", "ended_at", "duration_s", "peak_rss_mb",
             "cpu_time_s", "cost_usd"},
    "attempt": {"id", "run_id", "task_id", "pid", "started_at", "ended_at", "peak_rss_mb", "cpu_time_s"},
    "cache": {"created_at", "expires_at", "duration_s", "cost_usd", "source_run_id", "source_task_id"},
    "artifact": {"id", "created_at", "producer_run_id", "producer_task_id"},
}
EXAMPLE_FILES = sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


def _row(record, kind: str) -> dict:
    return {k: v for k, v in dataclasses.asdict(record).items() if k not in VOLATILE[kind]}


def _pod_argv(spec, spec_path: Path, task: str, request: TaskRequest, run_id: str, out: Path) -> list[str]:
    argv = ["--spec", str(spec_path), "--task", task, "--run-id", run_id, "--outputs-dir", str(out)]
    for name, arg in spec.tasks[task].arguments.items():
        if isinstance(arg, TaskFinalStatus):
            status = request.parameters[name]
            argv += ["--input", f"{name}={text_form({'state': status['state'].capitalize()})}"]
        elif name in request.artifacts:
            value = request.artifacts[name]
            text = text_form(value) if isinstance(value, list) else artifact_ref(value)
            argv += ["--input", f"{name}={text}"]
        else:
            argv += ["--input", f"{name}={text_form(request.parameters[name])}"]
    return argv


@pytest.mark.parametrize("example", EXAMPLE_FILES)
def test_local_and_pod_record_the_same_rows(example, s3_cluster, tmp_path, monkeypatch):
    monkeypatch.setenv("CONVEYOR_NOTIFY_WEBHOOK", "")
    module = load_example(example)
    pipelines = [v for v in vars(module).values() if hasattr(v, "pipeline_spec")]
    if not pipelines:
        pytest.skip(f"{example} defines no pipeline")
    _compare(pipelines[0].pipeline_spec, EXAMPLES / example, s3_cluster, tmp_path, monkeypatch)


LOUD = """
from conveyor import dsl


@dsl.component
def loud(n: int) -> int:
    import os
    import sys

    print(f"stdout line {n}")
    print("stderr line", file=sys.stderr)
    os.write(1, b"fd-level bytes\\n")
    return n + 1


@dsl.pipeline(name="loud")
def loud_pipeline():
    first = loud(n=1)
    loud(n=first.output)
"""


def test_a_pods_task_log_is_persisted_like_a_local_one(s3_cluster, tmp_path, monkeypatch):
    """Both sides store the log's bytes and record the same `log/attempt-1` row (the pod also tees
    them to the container log: checked in test_pod_process)."""
    path = tmp_path / "loud.py"
    path.write_text(LOUD)
    from conveyor.runtime.loader import find_pipeline

    spec = find_pipeline(path, None).pipeline_spec
    assert _compare(spec, path, s3_cluster, tmp_path, monkeypatch) == 2


def _compare(spec, preload: Path, s3_cluster, tmp_path, monkeypatch) -> int:
    """Run ``spec`` both ways and compare the rows; returns how many tasks had a log compared."""
    from conveyor.executor.run import LocalRunner, RunOptions

    home = tmp_path / "home"
    (tmp_path / "local-cwd").mkdir()
    monkeypatch.chdir(tmp_path / "local-cwd")  # each side its own filesystem, as a pod has
    monkeypatch.setenv("CONVEYOR_HOME", str(home))
    runner = LocalRunner(profile=s3_cluster.profile, home=home)
    try:
        local = runner.run(spec, {}, options=RunOptions(parallelism=1), preload=[str(preload)])
    finally:
        runner.close()
    portable = spec.portable()
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(portable.to_json())
    with s3_cluster.store() as store:
        local_tasks = {t.task_id: t for t in store.list_tasks(local.run_id) if t.status == "succeeded"}
        local_cache = {e.key: e for e in store.cache_list()}
        store.cache_prune(all=True)
    if not local_tasks:
        pytest.skip(f"{spec.name}: no task ran locally here ({local.error})")
    pod_cwd = tmp_path / "pod-cwd"  # a task's local files (a model registry's versions) stay on its side
    pod_cwd.mkdir()
    monkeypatch.chdir(pod_cwd)
    monkeypatch.setenv("CONVEYOR_HOME", str(pod_cwd / ".conveyor"))
    # `python -m conveyor.runtime.pod` starts with no logging handlers, so a task's warnings reach
    # stderr (logging's last resort) and its log, as in a local task process; pytest's handlers on
    # the root logger would swallow them here.
    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    compared = logs_compared = 0
    for task_id, row in local_tasks.items():
        request = TaskRequest.read(home / "runs" / local.run_id / task_id / f"attempt-{row.attempts}" / "request.json")
        argv = _pod_argv(portable, spec_path, row.task_name, request, "pod-run", tmp_path / "out" / task_id)
        assert pod.main(argv, {"CONVEYOR_ARTIFACT_ROOT": s3_cluster.artifact_root,
                               "CONVEYOR_METADATA_URL": s3_cluster.metadata_url}) == 0, task_id
        args = pod.parse_args(argv)
        pod_id = instance_id(portable, PodArgs(**{**vars(args)}))
        with s3_cluster.store() as store:
            there = store.get_task("pod-run", pod_id)
            assert _row(there, "task") == _row(row, "task"), task_id
            assert [_row(a, "attempt") for a in store.list_attempts("pod-run", pod_id)] == \
                [_row(a, "attempt") for a in store.list_attempts(local.run_id, task_id)]
            if row.cache_key is not None:
                assert _row(store.cache_lookup(row.cache_key), "cache") == _row(local_cache[row.cache_key], "cache")
            # Task outputs and the persisted task log (`log/attempt-N`): both sides store the same bytes.
            mine = sorted((_row(a, "artifact") for a in store.find_artifacts(run_id="pod-run")
                           if a.producer_task_id == pod_id), key=lambda a: a["output_name"] or "")
            theirs = sorted((_row(a, "artifact") for a in store.find_artifacts(run_id=local.run_id)
                             if a.producer_task_id == task_id), key=lambda a: a["output_name"] or "")
            assert mine == theirs, task_id
            logs_compared += any(is_log(a["output_name"]) for a in theirs)
        compared += 1
    assert compared == len(local_tasks)
    return logs_compared
