"""How a failed attempt is classified and described, from its result file and its exit."""

from __future__ import annotations

import signal

from conveyor.runtime.outcome import EXIT_PERMANENT, describe_failure


def test_the_tasks_own_verdict_wins():
    result = {"status": "failed", "failure_class": "permanent", "error": "ValueError: bad column"}
    assert describe_failure(result, EXIT_PERMANENT, None, False, None) == ("permanent", "ValueError: bad column")


def test_timeout_overrides_whatever_the_task_wrote():
    result = {"status": "failed", "failure_class": "permanent", "error": "x"}
    assert describe_failure(result, -9, signal.SIGKILL, True, 2.5) == ("timeout", "timed out after 2.5 s")


def test_signals_and_silent_crashes():
    assert describe_failure(None, -15, signal.SIGTERM, False, None) == (
        "preempted", "process killed by signal 15 (preempted)")
    assert describe_failure(None, -9, signal.SIGKILL, False, None) == ("killed", "process killed by signal 9")
    assert describe_failure(None, 1, None, False, None) == ("transient", "process exited with code 1 and no result")
