"""Message content: Slack Block Kit rendering and the generic JSON schema, as received over HTTP."""

from __future__ import annotations

import json

import jsonschema
import pytest

from conveyor.notify import (
    SCHEMA_ID,
    RunReport,
    SlackNotifier,
    WebhookNotifier,
    run_report_json_schema,
    slack_message,
)

FAILED = RunReport(
    run_id="run-42",
    pipeline="training",
    status="FAILED",
    duration_s=3725.2,
    failed_task="evaluate",
    error="ValueError: accuracy below <threshold> & more",
    metrics={"accuracy": 0.9134, "f1": 0.88, "bogus": float("nan"), "text": "nope"},
    cached_count=3,
    total_count=9,
    cost_usd=1.234,
    saved_usd=0.5,
    url="https://conveyor.example/runs/run-42",
)


def _all_text(message: dict) -> str:
    return json.dumps(message)


def test_slack_blocks_carry_status_duration_failure_metrics_cache_and_cost():
    msg = slack_message(FAILED)
    blocks = msg["blocks"]
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "training: failed"}}
    fields = [f["text"] for f in blocks[1]["fields"]]
    assert "*Status*\n:x: failed" in fields
    assert "*Duration*\n1h 2m 5s" in fields
    assert "*Cached tasks*\n3/9" in fields
    assert "*Cost*\n$1.23 (saved $0.50 by caching)" in fields
    failure = next(
        b for b in blocks if b["type"] == "section" and "Failed task" in b.get("text", {}).get("text", "")
    )
    assert "`evaluate`" in failure["text"]["text"]
    # mrkdwn control characters are escaped, so user text cannot inject links
    assert "accuracy below &lt;threshold&gt; &amp; more" in failure["text"]["text"]
    metrics = next(b for b in blocks if b.get("text", {}).get("text") == "*Metrics*")
    assert [f["text"] for f in metrics["fields"]] == ["*accuracy*\n0.9134", "*f1*\n0.88"]
    button = next(b for b in blocks if b["type"] == "actions")["elements"][0]
    assert button["url"] == "https://conveyor.example/runs/run-42"
    assert msg["text"].startswith("training failed, run run-42")


def test_slack_success_message_has_no_failure_block_and_clips_long_errors():
    ok = RunReport(run_id="r1", pipeline="p" * 200, status="Succeeded", duration_s=4.24)
    msg = slack_message(ok)
    assert len(msg["blocks"][0]["text"]["text"]) <= 150
    assert "Failed task" not in _all_text(msg)
    assert "*Status*\n:white_check_mark: succeeded" in [f["text"] for f in msg["blocks"][1]["fields"]]
    assert "*Duration*\n4.2s" in [f["text"] for f in msg["blocks"][1]["fields"]]
    long = RunReport(run_id="r2", pipeline="p", status="failed", error="x" * 10_000)
    assert len(long.error) <= 1500
    for block in slack_message(long)["blocks"]:
        if "text" in block and block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000


def test_generic_payload_matches_published_schema():
    body = FAILED.to_dict()
    jsonschema.validate(body, run_report_json_schema())
    assert body["schema"] == SCHEMA_ID
    assert body["status"] == "failed"
    assert body["metrics"] == {"accuracy": 0.9134, "f1": 0.88}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**body, "surprise": 1}, run_report_json_schema())


def test_both_notifiers_deliver_over_http(webhook_receiver):
    slack = SlackNotifier(webhook_receiver.base_url + "/services/T/B/slack-token-xyz")
    generic = WebhookNotifier(webhook_receiver.base_url + "/generic/hook-token-xyz")
    assert slack.send(FAILED).delivered
    assert generic.send(FAILED).delivered
    first, second = webhook_receiver.requests
    assert (first.method, first.path) == ("POST", "/services/T/B/slack-token-xyz")
    assert first.headers["Content-Type"].startswith("application/json")
    assert first.json == slack_message(FAILED)
    assert second.path == "/generic/hook-token-xyz"
    jsonschema.validate(second.json, run_report_json_schema())
    assert second.json["failed_task"] == "evaluate"
    assert second.json["cached_count"] == 3 and second.json["total_count"] == 9


def test_report_error_text_is_redacted_before_it_leaves():
    report = RunReport(
        run_id="r",
        pipeline="p",
        status="failed",
        error="POST https://hooks.slack.com/services/T1/B2/abcdefSECRET failed",
    )
    assert "abcdefSECRET" not in report.error
    assert "abcdefSECRET" not in _all_text(slack_message(report))
