"""The pod as a real process: SIGTERM preemption (its log still kept), and a >64 MB output uploaded in multipart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conveyor.runtime.outcome import EXIT_PREEMPTED
from tests.pipelines.compiler.helpers import container_templates
from tests.pipelines.runtime import pod_pipelines as pp
from tests.pipelines.runtime.argo_driver import ArgoDriver

pytestmark = pytest.mark.services
ROOT = Path(__file__).resolve().parents[3]


def _pod_command(cluster, manifest, node: str, task: str, outdir: Path) -> tuple[list[str], dict[str, str]]:
    """The argv and env Argo would give the pod of ``node`` (single-task pipelines)."""
    (template,) = container_templates(manifest).values()
    driver = ArgoDriver(manifest, {"conveyor-metadata/url": cluster.metadata_url}, outdir)
    scope = {"inputs.parameters.conveyor-task": task}
    task_args = manifest["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"]["parameters"]
    scope.update({f"inputs.parameters.{p['name']}": driver._sub(p["value"], {}) for p in task_args})
    argv = [driver._sub(a, scope).replace("/tmp/conveyor/outputs", str(outdir)) for a in template["container"]["args"]]
    env = dict(os.environ)
    for var in template["container"]["env"]:
        env[var["name"]] = driver._sub(var["value"], scope) if "value" in var else cluster.metadata_url
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "pipelines")])
    return [sys.executable, "-m", "conveyor.runtime.pod", *argv], env


def test_sigterm_records_a_preempted_attempt_and_exits_143(s3_cluster, tmp_path):
    manifest = s3_cluster.compile(pp.sleep_pipeline.pipeline_spec, run_id="run-preempt")
    cmd, env = _pod_command(s3_cluster, manifest, "sleepy", "sleepy", tmp_path / "out")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        with s3_cluster.store() as store:
            deadline = time.monotonic() + 60
            while not store.list_attempts("run-preempt", "sleepy"):
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "the pod never started its attempt"
                time.sleep(0.05)
            time.sleep(0.3)  # inside the user's time.sleep now
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=30)
            output = proc.stdout.read()
            assert code == EXIT_PREEMPTED, output
            (attempt,) = store.list_attempts("run-preempt", "sleepy")
            assert (attempt.status, attempt.failure_class, attempt.exit_code) == ("failed", "preempted", 143)
            task = store.get_task("run-preempt", "sleepy")
            assert task.status == "pending"  # Argo's retryStrategy will run it again
            assert store.cache_lookup(task.cache_key) is None
            assert store.get_claim(task.cache_key) is None  # the lease was given back
            assert "preempted" in output and s3_cluster.metadata_url not in output
            # The task's own output reached the container log (tee) and was persisted as the attempt's log.
            assert "sleeping 120.0 s" in output
            (log,) = [a for a in store.find_artifacts(run_id="run-preempt") if a.output_name == "log/attempt-1"]
            kept = s3_cluster.artifacts().materialize(log.uri, Path(tmp_path) / "log.txt")
            assert "sleeping 120.0 s" in kept.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_output_over_64_mb_is_uploaded_in_multipart(s3_cluster, s3_endpoint):
    run_id, nodes = s3_cluster.run(pp.big_pipeline.pipeline_spec)
    assert nodes["big-blob"].succeeded
    with s3_cluster.store() as store:
        blob = store.get_task(run_id, "big-blob").outputs["artifacts"]["blob"]
    assert blob["size"] == 65 * 2**20
    bucket, key = blob["uri"][len("s3://"):].split("/", 1)
    head = s3_endpoint.client().head_object(Bucket=bucket, Key=key)
    parts = int(head["ETag"].strip('"').rsplit("-", 1)[1])  # S3 marks multipart objects "<md5>-<parts>"
    assert parts >= 8
    assert s3_cluster.artifacts().verify(blob["uri"], blob["digest"], deep=True)
