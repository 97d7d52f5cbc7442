"""Delivery against a real loopback receiver: retries, Retry-After, bounded time, never raising."""

from __future__ import annotations

import logging
import time

from conveyor.notify import DeliveryResult, RetryPolicy, RunReport, WebhookNotifier, post_json
from conveyor.notify.delivery import parse_retry_after

FAST = RetryPolicy(
    total_timeout_s=3.0, attempt_timeout_s=1.0, max_attempts=6, backoff_initial_s=0.02, backoff_max_s=0.1
)
REPORT = RunReport(run_id="r1", pipeline="p", status="succeeded", duration_s=1.0)


def test_retries_503_then_succeeds(webhook_receiver):
    webhook_receiver.fail_next(2, status=503)
    result = post_json(
        webhook_receiver.base_url + "/hooks/T000/B000/secret-token-abcdef", {"a": 1}, policy=FAST
    )
    assert result == DeliveryResult(True, 3, 200, None, result.elapsed_s)
    assert len(webhook_receiver.requests) == 3
    assert all(r.json == {"a": 1} for r in webhook_receiver.requests)


def test_backoff_grows_exponentially_with_jitter():
    policy = RetryPolicy(backoff_initial_s=0.5, backoff_factor=2.0, backoff_max_s=3.0)
    assert [policy.backoff(i, lambda: 1.0) for i in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert policy.backoff(2, lambda: 0.25) == 0.5


def test_429_respects_retry_after(webhook_receiver):
    webhook_receiver.fail_next(1, status=429, retry_after="0.4")
    start = time.monotonic()
    result = post_json(webhook_receiver.base_url + "/hooks/T000/B000/secret-token-abcdef", {}, policy=FAST)
    elapsed = time.monotonic() - start
    assert result.delivered and result.attempts == 2 and len(webhook_receiver.requests) == 2
    assert 0.4 <= elapsed < 2.5  # backoff alone would be <= 0.02 s


def test_retry_after_longer_than_budget_gives_up_at_once(webhook_receiver):
    webhook_receiver.fail_next(5, 503, retry_after=120)
    start = time.monotonic()
    result = post_json(webhook_receiver.base_url + "/hooks/T000/B000/secret-token-abcdef", {}, policy=FAST)
    assert not result.delivered and result.attempts == 1 and result.status_code == 503
    assert time.monotonic() - start < 1.0


def test_parse_retry_after_handles_seconds_and_http_dates():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_client_error_is_not_retried(webhook_receiver):
    webhook_receiver.always_fail(status=404)
    result = post_json(webhook_receiver.base_url + "/hooks/T000/B000/secret-token-abcdef", {}, policy=FAST)
    assert not result.delivered and result.attempts == 1 and result.status_code == 404
    assert "HTTP 404" in result.last_error


def test_always_500_stops_at_max_attempts(webhook_receiver):
    webhook_receiver.always_fail(status=500)
    policy = RetryPolicy(
        total_timeout_s=5, attempt_timeout_s=1, max_attempts=4, backoff_initial_s=0.01, backoff_max_s=0.02
    )
    result = post_json(webhook_receiver.base_url + "/hooks/T000/B000/secret-token-abcdef", {}, policy=policy)
    assert (result.delivered, result.attempts, result.status_code) == (False, 4, 500)
    assert len(webhook_receiver.requests) == 4


def test_endpoint_down_is_bounded_and_does_not_raise(webhook_receiver):
    closed_port_url = webhook_receiver.closed_url()
    policy = RetryPolicy(
        total_timeout_s=1.0, attempt_timeout_s=0.5, max_attempts=50, backoff_initial_s=0.05, backoff_max_s=0.2
    )
    start = time.monotonic()
    result = WebhookNotifier(closed_port_url, policy=policy).send(REPORT)
    elapsed = time.monotonic() - start
    assert not result.delivered and result.attempts >= 2
    assert "connection failed" in result.last_error
    assert elapsed < 1.5
    assert REPORT.status == "succeeded"  # the run's result is untouched


def test_hanging_endpoint_is_bounded(webhook_receiver):
    webhook_receiver.hang(30)
    policy = RetryPolicy(total_timeout_s=1.2, attempt_timeout_s=0.5, max_attempts=10, backoff_initial_s=0.01)
    start = time.monotonic()
    result = post_json(webhook_receiver.base_url + "/hooks/T000/B000/secret-token-abcdef", {}, policy=policy)
    elapsed = time.monotonic() - start
    assert not result.delivered and "timed out" in result.last_error
    assert 0.9 <= elapsed < 1.8
    assert 2 <= len(webhook_receiver.requests) <= 3


def test_unserialisable_payload_is_a_result_not_an_exception(webhook_receiver):
    bad = post_json(
        webhook_receiver.base_url + "/hooks/T000/B000/secret-token-abcdef", {"k": {(1, 2): 1}}, policy=FAST
    )
    assert not bad.delivered and bad.attempts == 0 and "not JSON" in bad.last_error
    assert webhook_receiver.requests == []


def test_delivery_logs_never_contain_the_url(webhook_receiver, caplog):
    closed_port_url = webhook_receiver.closed_url()
    caplog.set_level(logging.DEBUG)
    webhook_receiver.fail_next(1)
    secret_url = webhook_receiver.base_url + "/services/T9/B9/tok-DO-NOT-LEAK-1"
    assert WebhookNotifier(secret_url, policy=FAST).send(REPORT).delivered
    policy = RetryPolicy(total_timeout_s=0.5, attempt_timeout_s=0.2, backoff_initial_s=0.01)
    failed = WebhookNotifier(closed_port_url, policy=policy).send(REPORT)
    text = caplog.text + repr(failed)
    assert "tok-DO-NOT-LEAK-1" not in text and "XXXXXXXXXXXX" not in text
    assert f"{webhook_receiver.base_url}/***" in caplog.text
