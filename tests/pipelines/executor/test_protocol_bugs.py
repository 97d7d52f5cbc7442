"""Issue 12's wrong results that belong to the task protocol, each run for real (local executor)."""

from __future__ import annotations

from tests.pipelines.executor.conftest import by_name

ENV_PIPE = """
@dsl.component
def mode() -> str:
    import os
    return os.environ["MODE"]

@dsl.pipeline(name="envy")
def envy(m: str = "fast") -> str:
    return mode().set_env_variable("MODE", {value!r}).output
"""

NOTIFY_PIPE = """
from conveyor.prebuilt import notify

@dsl.component
def work() -> int:
    return 1

@dsl.pipeline(name="notified")
def notified():
    done = notify(webhook="HOOK_FOR_PROTOCOL_TEST", kind="webhook")
    with dsl.ExitHandler(done):
        work()
"""


def test_env_variables_enter_the_cache_key(write_pipeline, run_file):
    fast = run_file(write_pipeline(ENV_PIPE.format(value="fast")))
    slow = run_file(write_pipeline(ENV_PIPE.format(value="slow")))
    assert fast.outputs["Output"] == "fast"
    assert by_name(slow)["mode"].status == "succeeded"  # not served MODE=fast's output
    assert slow.outputs["Output"] == "slow"
    again = run_file(write_pipeline(ENV_PIPE.format(value="slow")))
    assert by_name(again)["mode"].status == "cached" and again.outputs["Output"] == "slow"


def test_every_run_notifies_the_final_status_is_never_a_cache_hit(write_pipeline, run_file, webhook_receiver,
                                                                     monkeypatch):
    monkeypatch.setenv("HOOK_FOR_PROTOCOL_TEST", webhook_receiver.url("/hook"))
    path = write_pipeline(NOTIFY_PIPE)
    first = run_file(path)
    second = run_file(path)
    assert first.succeeded and second.succeeded
    assert by_name(second)["work"].status == "cached"
    assert by_name(second)["notify"].status == "succeeded"  # ran again
    assert len(webhook_receiver.requests) == 2


def test_a_side_effecting_component_is_never_a_cache_hit(write_pipeline, run_file):
    path = write_pipeline("""
@dsl.component
def push() -> int:
    return 1

@dsl.pipeline(name="pusher")
def pusher():
    push()
""")
    from conveyor.runtime.loader import find_pipeline
    from conveyor.runtime.protocol.keys import task_key, uncacheable

    spec = find_pipeline(path, None).pipeline_spec
    component = spec.components[spec.tasks["push"].component].model_copy(update={"side_effects": True})
    assert "side-effecting" in uncacheable(component)
    spec = spec.model_copy(update={"components": {**spec.components, spec.tasks["push"].component: component}})
    assert task_key(spec, "push", {}, {}) is None
