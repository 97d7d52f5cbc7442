"""Smoke tests proving every mode of the webhook receiver over real HTTP (requests library)."""

import time

import pytest
import requests

pytestmark = pytest.mark.services


def test_ok_records_method_path_headers_and_json(webhook_receiver):
    resp = requests.post(webhook_receiver.url(), json={"text": "run 42 finished"}, headers={"X-Run": "42"}, timeout=5)
    assert (resp.status_code, resp.text) == (200, "ok")
    [req] = webhook_receiver.wait_for(1)
    assert req.method == "POST"
    assert req.path == webhook_receiver.url().removeprefix(webhook_receiver.base_url)
    assert req.headers["X-Run"] == "42"
    assert req.json == {"text": "run 42 finished"}
    assert webhook_receiver.json_bodies == [{"text": "run 42 finished"}]


def test_reset_clears_record_and_mode(webhook_receiver):
    # The function-scoped fixture calls reset() before and after every test.
    webhook_receiver.always_fail(500)
    requests.post(webhook_receiver.url(), json={}, timeout=5)
    webhook_receiver.reset()
    assert webhook_receiver.requests == []
    assert requests.post(webhook_receiver.url(), json={}, timeout=5).status_code == 200


def test_fail_next_then_ok_with_retry_after(webhook_receiver):
    webhook_receiver.fail_next(2, 503, retry_after=3)
    statuses = [requests.post(webhook_receiver.url(), json={"i": i}, timeout=5) for i in range(3)]
    assert [r.status_code for r in statuses] == [503, 503, 200]
    assert statuses[0].headers["Retry-After"] == "3"
    assert "Retry-After" not in statuses[2].headers
    assert [r.status for r in webhook_receiver.requests] == [503, 503, 200]


def test_always_fail(webhook_receiver):
    webhook_receiver.always_fail(500)
    for _ in range(3):
        assert requests.post(webhook_receiver.url(), json={}, timeout=5).status_code == 500
    webhook_receiver.ok()
    assert requests.post(webhook_receiver.url(), json={}, timeout=5).status_code == 200
    webhook_receiver.always(502, retry_after="7")
    resp = requests.post(webhook_receiver.url("/other/path"), json={}, timeout=5)
    assert (resp.status_code, resp.headers["Retry-After"]) == (502, "7")
    assert webhook_receiver.requests[-1].path == "/other/path"


def test_hang_outlasts_client_timeout(webhook_receiver):
    webhook_receiver.hang(30)
    start = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(webhook_receiver.url(), json={"text": "slow"}, timeout=0.5)
    assert time.monotonic() - start < 5
    assert webhook_receiver.wait_for(1)[0].json == {"text": "slow"}


def test_closed_url_refuses_connections(webhook_receiver, closed_port_url):
    for url in (webhook_receiver.closed_url(), closed_port_url):
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.post(url, json={}, timeout=2)
    assert webhook_receiver.requests == []
