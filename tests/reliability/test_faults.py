"""Fault injection inside the runner's own world: task processes that die, hang, are preempted or raise.

Why: "retries that never fail fast" is the complaint. Each case injects one fault into a real task
process and asserts both halves of the contract: how the attempt was *classified* (killed, timeout,
preempted, transient, permanent — as recorded in the metadata store) and the *outcome* (retried
with backoff then succeeded, or failed fast after exactly one attempt). The runner runs in this
process against a fresh home; every task runs in its own forked process, exactly as for users.
"""

from __future__ import annotations

import threading
import time

import psutil
import pytest

from tests.reliability import pipelines
from tests.reliability.helpers import check_run_integrity, marks_by_task, wait_for

pytestmark = pytest.mark.reliability

BACKOFF_S = 0.2  # FLAKY's set_retry(3, backoff_duration="0.2s", backoff_factor=2.0); full jitter halves at most


@pytest.fixture
def runner(tmp_path, monkeypatch):
    from conveyor.executor.run import LocalRunner

    monkeypatch.setenv("CONVEYOR_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    r = LocalRunner()
    yield r
    r.close()


@pytest.fixture
def flaky(tmp_path):
    marks = tmp_path / "marks"
    return pipelines.write(tmp_path, "flaky", pipelines.FLAKY, marks), marks


def run_flaky(runner, flaky, mode: str, fail_times: int = 1):
    from conveyor.executor.run import RunOptions
    from conveyor.runtime.loader import find_pipeline

    path, _ = flaky
    spec = find_pipeline(path).pipeline_spec
    args = {"mode": mode, "fail_times": fail_times, "counter": str(path.parent / f"counter-{mode}")}
    result = runner.run(spec, args, options=RunOptions(use_cache=False), preload=[str(path)])
    attempts = runner.store.list_attempts(result.run_id, "flaky")
    return result, attempts


def assert_retried_with_backoff(attempts) -> None:
    for number, (prev, nxt) in enumerate(zip(attempts, attempts[1:]), start=1):
        ceiling = BACKOFF_S * 2.0 ** (number - 1)
        gap = nxt.started_at - prev.ended_at
        assert gap >= ceiling / 2 - 0.02, f"retry {number} came {gap:.3f} s after the failure, before its backoff"


def assert_clean(runner, result) -> None:
    from conveyor.stores.artifacts import open_artifact_store

    problems = check_run_integrity(runner.store, open_artifact_store(runner.profile.artifact_root), result.run_id)
    assert not problems, problems


@pytest.mark.parametrize(("mode", "failure_class"), [
    ("kill", "killed"),          # SIGKILL: the OOM killer, a crashed native extension
    ("hang", "timeout"),         # exceeds set_timeout(5): killed by the runner
    ("term", "preempted"),       # SIGTERM: what a spot reclaim or a node drain sends
    ("transient", "transient"),  # dsl.TransientError raised by user code
])
def test_transient_fault_is_retried_with_backoff_then_succeeds(runner, flaky, mode, failure_class):
    result, attempts = run_flaky(runner, flaky, mode, fail_times=2)
    assert result.status == "succeeded", result.error
    assert result.outputs == {"Output": 3}  # flaky returns its attempt index (2), `after` adds one
    assert [(a.status, a.failure_class) for a in attempts] == [
        ("failed", failure_class), ("failed", failure_class), ("succeeded", None)]
    assert_retried_with_backoff(attempts)
    assert_clean(runner, result)


@pytest.mark.parametrize(("mode", "message"), [
    ("permanent", "label column missing"),                          # dsl.PermanentError
    ("validation", "data validation failed: 1 rows with negative age"),  # ValueError from a data check
    ("wrong_type", "output 'Output' must be int"),                  # the return value breaks the signature
])
def test_permanent_fault_fails_fast_with_one_attempt(runner, flaky, mode, message):
    started = time.monotonic()
    result, attempts = run_flaky(runner, flaky, mode, fail_times=5)
    assert result.status == "failed"
    assert [(a.status, a.failure_class) for a in attempts] == [("failed", "permanent")]
    task = {t.name: t for t in result.tasks}
    assert task["flaky"].failure_class == "permanent" and message in task["flaky"].error
    assert task["after"].status == "skipped"
    assert message in result.error and "flaky" in result.error
    assert time.monotonic() - started < 10  # no backoff was slept through
    assert_clean(runner, result)


def test_retries_run_out_and_the_run_fails_with_the_last_cause(runner, flaky):
    result, attempts = run_flaky(runner, flaky, "transient", fail_times=99)
    assert result.status == "failed"
    assert [a.failure_class for a in attempts] == ["transient"] * 4  # 1 + set_retry(3)
    assert_retried_with_backoff(attempts)
    assert "feature store unavailable (try 3)" in result.error
    assert_clean(runner, result)


def test_fork_server_killed_mid_task_reports_killed_and_the_retry_succeeds(runner, flaky):
    """The warm fork server is one process for all tasks; losing it must cost a retry, not the run."""
    path, marks = flaky
    box: dict = {}
    thread = threading.Thread(target=lambda: box.update(out=run_flaky(runner, flaky, "slow", fail_times=1)))
    thread.start()
    try:
        mark = wait_for(lambda: next(iter(marks.iterdir()), None) if marks.exists() else None, 30, "the task")
        task = psutil.Process(int(mark.name.split("@")[1]))
        server = task.parent()
        assert "forkserver" in " ".join(server.cmdline())
        server.kill()
    finally:
        thread.join(60)
    assert not thread.is_alive(), "the run did not finish after the fork server died"
    result, attempts = box["out"]
    assert result.status == "succeeded", result.error
    assert [(a.status, a.failure_class) for a in attempts] == [("failed", "killed"), ("succeeded", None)]
    assert marks_by_task(marks) == {"flaky": 2, "after": 1}
    assert_clean(runner, result)
