"""Target references (URL, env:VAR, VAR, file:), URL validation and secret redaction."""

from __future__ import annotations

import logging

import pytest

from conveyor.notify import (
    MASK,
    NotifyConfigError,
    RedactingFilter,
    RetryPolicy,
    RunReport,
    SecretRegistry,
    SlackNotifier,
    WebhookNotifier,
    notifier_from_target,
    parse_target,
    redact,
    register_secret,
    safe_url,
)

FAST = RetryPolicy(total_timeout_s=2.0, attempt_timeout_s=1.0, backoff_initial_s=0.01)
REPORT = RunReport(run_id="r1", pipeline="p", status="failed", failed_task="t", error="boom")


def test_env_prefix_and_bare_name_resolve_late(webhook_receiver, monkeypatch):
    monkeypatch.delenv("CONVEYOR_TEST_HOOK", raising=False)
    notifier = notifier_from_target("env:CONVEYOR_TEST_HOOK", kind="webhook", policy=FAST)
    missing = notifier.send(REPORT)  # not set yet: a result, not an exception
    assert not missing.delivered and "CONVEYOR_TEST_HOOK is not set" in missing.last_error
    monkeypatch.setenv("CONVEYOR_TEST_HOOK", webhook_receiver.base_url + "/env/path-secret-abc")
    assert notifier.send(REPORT).delivered
    bare = notifier_from_target("CONVEYOR_TEST_HOOK", policy=FAST)
    assert isinstance(bare, WebhookNotifier) and bare.target.describe() == "env:CONVEYOR_TEST_HOOK"
    assert bare.send(REPORT).delivered
    assert [r.path for r in webhook_receiver.requests] == ["/env/path-secret-abc"] * 2


def test_file_reference_reads_at_send_time(webhook_receiver, tmp_path):
    hook = tmp_path / "hook.url"
    hook.write_text(webhook_receiver.base_url + "/file/one-secret-xyz" + "\n")
    notifier = notifier_from_target(f"file:{hook}", policy=FAST)
    assert notifier.send(REPORT).delivered
    hook.write_text(webhook_receiver.base_url + "/file/rotated-secret-xyz")
    assert notifier.send(REPORT).delivered
    assert [r.path for r in webhook_receiver.requests] == ["/file/one-secret-xyz", "/file/rotated-secret-xyz"]
    assert parse_target(f"file://{hook}").value == str(hook)


def test_missing_and_empty_files_are_named(tmp_path):
    with pytest.raises(NotifyConfigError, match="file:.*nope.url: file does not exist"):
        parse_target(f"file:{tmp_path / 'nope.url'}").resolve()
    empty = tmp_path / "empty"
    empty.write_text("  \n")
    with pytest.raises(NotifyConfigError, match="file is empty"):
        parse_target(f"file:{empty}").resolve()


def test_auto_kind_picks_slack_by_host(monkeypatch):
    monkeypatch.setenv("SLACK_HOOK_T", "https://hooks.slack.com/services/T0/B0/zzzzzzzzzzzz")
    assert isinstance(notifier_from_target("env:SLACK_HOOK_T"), SlackNotifier)
    assert isinstance(notifier_from_target("https://example.com/hook"), WebhookNotifier)
    assert isinstance(notifier_from_target("https://example.com/hook", kind="slack"), SlackNotifier)
    with pytest.raises(NotifyConfigError, match="kind 'teams'"):
        notifier_from_target("https://example.com/hook", kind="teams")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("ftp://files.example.com/secret-ftp-path", "scheme 'ftp' is not allowed"),
        ("https:///no-host-secret-path", "URL has no host"),
        ("https://exa mple.com/secret-space-path", "malformed URL host"),
        ("https://example.com:99999/secret-port-path", "malformed URL"),
        ("hooks.slack.com/services/secret-noscheme-path", "not a URL, env:VAR, VAR or file:/path"),
        ("env:1BAD", "not a valid environment variable name"),
        ("", "target is empty"),
        ("file:", "no path given"),
    ],
)
def test_bad_targets_give_specific_errors_without_secret_parts(target, expected):
    with pytest.raises(NotifyConfigError, match=expected) as info:
        parse_target(target)
    assert "secret" not in str(info.value)


def test_bad_url_in_env_names_the_reference_not_the_url(monkeypatch):
    monkeypatch.setenv("BAD_HOOK_T", "gopher://evil.example/secret-gopher-token")
    with pytest.raises(NotifyConfigError) as info:
        parse_target("env:BAD_HOOK_T").resolve()
    assert "env:BAD_HOOK_T" in str(info.value) and "gopher" in str(info.value)
    assert "secret-gopher-token" not in str(info.value)


def test_repr_and_describe_hide_literal_urls():
    notifier = notifier_from_target("https://hooks.example.com/T1/very-secret-token")
    assert "very-secret-token" not in repr(notifier) and "very-secret-token" not in str(notifier.target)
    assert repr(notifier) == "WebhookNotifier('https://hooks.example.com/***')"
    assert safe_url("http://user:pw@host.example:8080/x?y=1") == "http://host.example:8080/***"


def test_registry_redacts_registered_secrets_and_url_tails():
    registry = SecretRegistry()
    registry.register("https://hooks.example.com/T1/B2/tail-secret-777?sig=abc123456")
    text = "posting to /T1/B2/tail-secret-777?sig=abc123456 and https://hooks.example.com/T1/B2/tail-secret-777?sig=abc123456"
    out = registry.redact(text)
    assert "tail-secret-777" not in out and out.count(MASK) == 2
    registry.register("abc")  # too short to register safely
    assert "abc" not in registry and len(registry) == 2


def test_known_credential_shapes_are_redacted_even_unregistered():
    assert (
        redact("see https://hooks.slack.com/services/T/B/unregistered1")
        == f"see https://hooks.slack.com/{MASK}"
    )
    assert redact("postgresql://conveyor:hunter2@db:5432/x") == f"postgresql://{MASK}@db:5432/x"
    assert redact("https://x.example/a?token=t0ps3cret&b=1") == f"https://x.example/a?token={MASK}&b=1"


def test_redacting_filter_scrubs_other_loggers(caplog):
    register_secret("sk-live-registered-secret-42")
    logger = logging.getLogger("conveyor.test.thirdparty")
    handler_filter = RedactingFilter()
    logger.addFilter(handler_filter)
    try:
        with caplog.at_level(logging.INFO, logger="conveyor.test.thirdparty"):
            logger.info("calling with key %s", "sk-live-registered-secret-42")
    finally:
        logger.removeFilter(handler_filter)
    assert "sk-live-registered-secret-42" not in caplog.text
    assert f"calling with key {MASK}" in caplog.text


def test_resolved_env_url_is_registered_and_redacted_everywhere(monkeypatch, webhook_receiver, caplog):
    closed_port_url = webhook_receiver.closed_url()
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("DOWN_HOOK_T", closed_port_url)
    result = notifier_from_target(
        "DOWN_HOOK_T", policy=RetryPolicy(total_timeout_s=0.3, attempt_timeout_s=0.1)
    ).send(REPORT)
    assert not result.delivered
    assert redact(f"error at {closed_port_url}") == f"error at {MASK}"
    path = closed_port_url.split(":", 2)[2].split("/", 1)[1]
    assert redact(f"POST /{path} HTTP/1.1") == f"POST {MASK} HTTP/1.1"
    assert path not in caplog.text + str(result)


def test_redaction_stays_linear_on_long_text():
    import time

    start = time.monotonic()
    redact("x" * 200_000 + " ftp://" + "y" * 200_000)
    assert time.monotonic() - start < 0.5  # a backtracking pattern took seconds here
