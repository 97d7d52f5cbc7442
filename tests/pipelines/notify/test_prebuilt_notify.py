"""The ready-made ``conveyor.prebuilt.notify`` exit task: in a pipeline, on Argo, and run for real."""

from __future__ import annotations

import json
import logging

from conveyor import dsl
from conveyor.compiler.argo import CompileOptions, compile_workflow
from conveyor.ir import PipelineTaskFinalStatus
from conveyor.prebuilt import notify


@dsl.component
def work(x: int) -> int:
    return x + 1


@dsl.pipeline(name="notified")
def notified():
    done = notify(webhook="SLACK_WEBHOOK_URL", message="nightly")
    with dsl.ExitHandler(done):
        work(x=1)


def test_notify_is_an_exit_task_whose_spec_holds_only_the_reference():
    spec = notified.pipeline_spec
    exit_task = next(g.exit_task for g in spec.groups.values() if g.kind == "exit_handler")
    assert spec.tasks[exit_task].component == "notify"
    assert spec.tasks[exit_task].arguments["status"].kind == "task_final_status"
    assert "SLACK_WEBHOOK_URL" in spec.to_json() and "https://" not in spec.to_json()


def test_notify_compiles_to_on_exit_with_secret_env():
    opts = CompileOptions(
        run_id="r1", spec_uri="s3://b/s.json", image="registry.test/conveyor-task:t", secret_env={"SLACK_WEBHOOK_URL": "notify/slack"}
    )
    wf = compile_workflow(notified.pipeline_spec, None, opts)
    assert wf["spec"]["onExit"] == "exit-handler"
    tmpl = {t["name"]: t for t in wf["spec"]["templates"]}["notify"]
    env = {e["name"]: e for e in tmpl["container"]["env"]}
    assert env["SLACK_WEBHOOK_URL"]["valueFrom"]["secretKeyRef"] == {"name": "notify", "key": "slack"}


def _status(state="FAILED", error="train: OOMKilled"):
    return PipelineTaskFinalStatus(
        state=state,
        pipeline_job_resource_name="notified-x7k",
        pipeline_task_name="notify",
        error_message=error,
    )


def test_notify_runs_and_posts_slack_blocks(webhook_receiver, monkeypatch):
    monkeypatch.setenv("SLACK_HOOK_FOR_TEST", webhook_receiver.url())
    monkeypatch.setenv("CONVEYOR_RUN_ID", "run-77")
    delivered = notify.python_func(
        status=_status(), webhook="SLACK_HOOK_FOR_TEST", kind="slack", pipeline="notified"
    )
    assert delivered is True
    body = webhook_receiver.requests[0].json
    assert body["blocks"][0]["text"]["text"] == "notified: failed"
    assert "OOMKilled" in json.dumps(body) and "run-77" in json.dumps(body)


def test_notify_never_fails_the_task(webhook_receiver, monkeypatch, caplog):
    caplog.set_level(logging.INFO)
    monkeypatch.setenv("DOWN_HOOK_FOR_TEST", webhook_receiver.closed_url())
    assert (
        notify.python_func(status=_status("SUCCEEDED", None), webhook="env:DOWN_HOOK_FOR_TEST", timeout_s=0.5)
        is False
    )
    monkeypatch.delenv("UNSET_HOOK_FOR_TEST", raising=False)
    assert notify.python_func(status=_status(), webhook="UNSET_HOOK_FOR_TEST") is False
    raw = webhook_receiver.url()
    assert notify.python_func(status=_status(), webhook=raw) is False  # a raw URL is refused, not sent
    assert webhook_receiver.requests == []
    assert "XXXXXXXXXXXX" not in caplog.text  # the receiver's secret-looking path never reaches the log
