"""Retries: transient failures are retried with backoff; permanent ones fail fast."""

from __future__ import annotations

from tests.pipelines.executor.conftest import by_name

FLAKY = """
@dsl.component
def flaky(mode: str, fail_times: int, counter: str) -> str:
    import os, signal, time
    n = int(open(counter).read()) if os.path.exists(counter) else 0
    open(counter, "w").write(str(n + 1))
    if n < fail_times:
        if mode == "transient":
            raise dsl.TransientError(f"flaky service, try {{n}}")
        if mode == "permanent":
            raise dsl.PermanentError("the input data is invalid")
        if mode == "type":
            raise TypeError("expected a DataFrame")
        if mode == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if mode == "term":
            os.kill(os.getpid(), signal.SIGTERM)
        if mode == "sleep":
            time.sleep(30)
        if mode == "io":
            raise ConnectionError("reset by peer")
    return f"ok after {{n}}"

@dsl.pipeline(name="retry")
def retry(mode: str, fail_times: int = 1, counter: str = "counter"):
    flaky(mode=mode, fail_times=fail_times, counter=counter).set_retry(
        num_retries={retries}, backoff_duration="0.05s", backoff_factor=2.0).set_timeout({timeout})
"""


def _run(write_pipeline, run_file, tmp_path, mode, fail_times=1, retries=3, timeout=20):
    path = write_pipeline(FLAKY.format(retries=retries, timeout=timeout))
    counter = tmp_path / f"counter-{mode}"
    result = run_file(path, {"mode": mode, "fail_times": fail_times, "counter": str(counter)}, use_cache=False)
    return result, by_name(result)["flaky"]


def test_transient_exception_is_retried_then_succeeds(write_pipeline, run_file, tmp_path):
    result, task = _run(write_pipeline, run_file, tmp_path, "transient", fail_times=2)
    assert result.status == "succeeded" and task.attempts == 3


def test_unmarked_io_error_is_retried(write_pipeline, run_file, tmp_path):
    result, task = _run(write_pipeline, run_file, tmp_path, "io", fail_times=1)
    assert result.status == "succeeded" and task.attempts == 2


def test_killed_process_is_retried(write_pipeline, run_file, tmp_path):
    result, task = _run(write_pipeline, run_file, tmp_path, "kill", fail_times=1)
    assert result.status == "succeeded" and task.attempts == 2


def test_sigterm_counts_as_preemption_and_is_retried(write_pipeline, run_file, runner, tmp_path):
    result, task = _run(write_pipeline, run_file, tmp_path, "term", fail_times=1)
    assert result.status == "succeeded" and task.attempts == 2
    attempts = runner.store.list_attempts(result.run_id)
    assert [a.failure_class for a in attempts] == ["preempted", None]


def test_timeout_is_enforced_and_retried(write_pipeline, run_file, runner, tmp_path):
    result, task = _run(write_pipeline, run_file, tmp_path, "sleep", fail_times=1, timeout=1)
    assert result.status == "succeeded" and task.attempts == 2
    assert runner.store.list_attempts(result.run_id)[0].failure_class == "timeout"


def test_timeout_counts_from_the_task_process_not_from_its_start_up(write_pipeline, run_file, runner, tmp_path,
                                                                     monkeypatch):
    """A fork server that starts slowly (a loaded machine) or a venv being built must not eat the
    task's timeout: here every spawn takes 2 s longer than the whole 1 s timeout."""
    import time

    from conveyor.executor.pool import WorkerPool

    spawn = WorkerPool.spawn

    def slow_spawn(self, *args, **kwargs):
        time.sleep(2)
        return spawn(self, *args, **kwargs)

    monkeypatch.setattr(WorkerPool, "spawn", slow_spawn)
    result, task = _run(write_pipeline, run_file, tmp_path, "transient", fail_times=0, timeout=1)
    assert result.status == "succeeded" and task.attempts == 1, result.error
    assert [a.failure_class for a in runner.store.list_attempts(result.run_id)] == [None]


def test_permanent_error_fails_fast_without_retries(write_pipeline, run_file, tmp_path):
    result, task = _run(write_pipeline, run_file, tmp_path, "permanent", fail_times=5)
    assert result.status == "failed"
    assert task.attempts == 1 and task.failure_class == "permanent"
    assert "the input data is invalid" in task.error


def test_type_error_fails_fast(write_pipeline, run_file, tmp_path):
    result, task = _run(write_pipeline, run_file, tmp_path, "type", fail_times=5)
    assert result.status == "failed" and task.attempts == 1 and task.failure_class == "permanent"


def test_retries_are_bounded(write_pipeline, run_file, tmp_path):
    result, task = _run(write_pipeline, run_file, tmp_path, "transient", fail_times=10, retries=2)
    assert result.status == "failed" and task.attempts == 3 and task.failure_class == "transient"
