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


SIDE_EFFECT_PIPE = """
@dsl.component
def build() -> int:
    return 1

@dsl.component(side_effects=True)
def push(n: int) -> int:
    import os
    with open(os.environ["PUSH_LOG"], "a") as log:
        log.write("pushed\\n")
    return n

@dsl.pipeline(name="pusher")
def pusher():
    push(n=build().output)
"""


def test_a_side_effecting_component_is_never_a_cache_hit(write_pipeline, run_file, home, tmp_path, monkeypatch):
    """DSL -> IR -> key: `@dsl.component(side_effects=True)` survives the spec's JSON (what a pod
    decodes), has no key, runs in every run, and submit-time resolution never serves it."""
    from conveyor.ir.spec import PipelineSpec
    from conveyor.launcher.resolve import resolve_cached
    from conveyor.runtime.loader import find_pipeline
    from conveyor.runtime.protocol.codec import decode_spec, encode_spec
    from conveyor.runtime.protocol.keys import task_key, uncacheable
    from conveyor.stores.artifacts import open_artifact_store
    from conveyor.stores.metadata import open_metadata_store

    push_log = tmp_path / "pushes.txt"
    monkeypatch.setenv("PUSH_LOG", str(push_log))
    path = write_pipeline(SIDE_EFFECT_PIPE)
    spec = find_pipeline(path, None).pipeline_spec
    assert PipelineSpec.from_json(spec.to_json()) == spec
    decoded = decode_spec(encode_spec(spec))  # the pod's copy
    assert decoded.component_of("push").side_effects and not decoded.component_of("build").side_effects
    assert "side-effecting" in uncacheable(decoded.component_of("push"))
    assert task_key(decoded, "push", {"n": 1}, {}) is None
    assert task_key(decoded, "build", {}, {}) is not None
    first, second = run_file(path), run_file(path)
    assert first.succeeded and second.succeeded
    assert by_name(second)["build"].status == "cached"
    assert by_name(second)["push"].status == "succeeded"  # ran again
    assert push_log.read_text() == "pushed\n" * 2
    with open_metadata_store(f"sqlite:///{home / 'metadata.db'}") as store:
        resolution = resolve_cached(spec, {}, store, open_artifact_store((home / "artifacts").as_uri()), run_id="r")
    assert set(resolution.cached) == {"build"} and not resolution.complete


def test_side_effects_must_be_a_bool():
    import pytest

    from conveyor import dsl
    from conveyor.ir.errors import PipelineDefinitionError

    with pytest.raises(PipelineDefinitionError, match="side_effects must be True or False"):
        @dsl.component(side_effects="yes")
        def bad() -> int:
            return 1
