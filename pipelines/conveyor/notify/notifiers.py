"""Slack and generic-webhook notifiers.

A notifier holds a :class:`~conveyor.notify.targets.TargetRef`, not a URL: the
URL is resolved each time a report is sent (so a rotated secret file is picked
up and nothing long-lived holds the credential), and every failure - a missing
env var included - comes back as a :class:`DeliveryResult`, never an exception,
because a notification must not change a run's outcome.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from conveyor.notify.delivery import DeliveryResult, RetryPolicy, post_json
from conveyor.notify.report import RunReport, format_duration, format_metric, summary_line
from conveyor.notify.secrets import redact
from conveyor.notify.targets import NotifyConfigError, TargetRef, is_slack_url, parse_target

log = logging.getLogger("conveyor.notify")

_STATUS_EMOJI = {"succeeded": ":white_check_mark:", "failed": ":x:", "cancelled": ":no_entry_sign:"}
# Block Kit limits: header text 150 chars, section text 3000, at most 10 fields of 2000.
_HEADER_MAX = 150
_SECTION_MAX = 3000
_FIELDS_MAX = 10


class Notifier(Protocol):
    def send(self, report: RunReport) -> DeliveryResult: ...


class _WebhookBase:
    def __init__(self, target: TargetRef | str, *, policy: RetryPolicy | None = None) -> None:
        self.target = target if isinstance(target, TargetRef) else parse_target(target)
        self.policy = policy or RetryPolicy()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.target.describe()!r})"

    def check(self) -> None:
        """Resolve and validate the target now; raises :class:`NotifyConfigError` (a fail-fast for CLIs)."""
        self.target.resolve()

    def payload(self, report: RunReport) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def send(self, report: RunReport) -> DeliveryResult:
        """Render ``report`` and deliver it. Never raises."""
        try:
            url = self.target.resolve()
        except NotifyConfigError as exc:
            message = redact(str(exc))
            log.warning("notification not sent: %s", message)
            return DeliveryResult(False, 0, None, message)
        except Exception as exc:  # defensive: resolution must not break a run either
            message = redact(f"{type(exc).__name__}: {exc}")
            log.warning("notification not sent: %s", message)
            return DeliveryResult(False, 0, None, message)
        try:
            body = self.payload(report)
        except Exception as exc:
            message = redact(f"could not render report: {type(exc).__name__}: {exc}")
            log.warning("notification not sent: %s", message)
            return DeliveryResult(False, 0, None, message)
        return post_json(url, body, policy=self.policy)


class WebhookNotifier(_WebhookBase):
    """POSTs :meth:`RunReport.to_dict` (schema ``conveyor.run-report/v1``) as JSON."""

    def payload(self, report: RunReport) -> dict[str, Any]:
        return report.to_dict()


class SlackNotifier(_WebhookBase):
    """POSTs a Block Kit message to a Slack incoming webhook."""

    def payload(self, report: RunReport) -> dict[str, Any]:
        return slack_message(report)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape(text: str) -> str:
    """Slack mrkdwn needs only &, < and > escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(report: RunReport) -> dict[str, Any]:
    """Render ``report`` as a Slack Block Kit message (``text`` is the notification fallback)."""
    emoji = _STATUS_EMOJI.get(report.status, ":grey_question:")
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _clip(f"{report.pipeline}: {report.status}", _HEADER_MAX)},
        }
    ]
    fields = [
        f"*Status*\n{emoji} {report.status}",
        f"*Duration*\n{format_duration(report.duration_s)}",
        f"*Run*\n`{_escape(report.run_id)}`",
    ]
    if report.total_count:
        fields.append(f"*Cached tasks*\n{report.cached_count}/{report.total_count}")
    if report.cost_usd is not None or report.saved_usd is not None:
        cost = f"${report.cost_usd:.2f}" if report.cost_usd is not None else "n/a"
        if report.saved_usd:
            cost += f" (saved ${report.saved_usd:.2f} by caching)"
        fields.append(f"*Cost*\n{cost}")
    blocks.append(
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields[:_FIELDS_MAX]]}
    )

    if report.message:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _clip(_escape(report.message), _SECTION_MAX)},
            }
        )
    if report.failed_task or report.error:
        text = f"*Failed task:* `{_escape(report.failed_task or 'unknown')}`"
        if report.error:
            text += f"\n```{_escape(report.error)}```"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, _SECTION_MAX)}})
    if report.metrics:
        metric_fields = [
            {"type": "mrkdwn", "text": f"*{_escape(name)}*\n{format_metric(value)}"}
            for name, value in sorted(report.metrics.items())[:_FIELDS_MAX]
        ]
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": "*Metrics*"}, "fields": metric_fields}
        )
    if report.url:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": "Open run"}, "url": report.url}
                ],
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"conveyor · run `{_escape(report.run_id)}`"}],
        }
    )
    return {"text": summary_line(report), "blocks": blocks}


def notifier_from_target(
    target: str, *, kind: str = "auto", policy: RetryPolicy | None = None
) -> SlackNotifier | WebhookNotifier:
    """Build a notifier from ``URL`` | ``env:VAR`` | ``VAR`` | ``file:/path``.

    ``kind`` is ``slack``, ``webhook`` or ``auto``; ``auto`` resolves the
    reference once to look at the host (hooks.slack.com → Slack) and keeps only
    the reference. Raises :class:`NotifyConfigError` for malformed targets; an
    unresolvable reference with ``kind='auto'`` falls back to the generic
    webhook, and the error then surfaces (redacted) in the send result.
    """
    ref = parse_target(target)
    kind = kind.lower()
    if kind == "slack":
        return SlackNotifier(ref, policy=policy)
    if kind in ("webhook", "json", "generic"):
        return WebhookNotifier(ref, policy=policy)
    if kind != "auto":
        raise NotifyConfigError(f"notify kind {kind!r} is not one of: auto, slack, webhook")
    try:
        url = ref.resolve()
    except NotifyConfigError:
        return WebhookNotifier(ref, policy=policy)
    return SlackNotifier(ref, policy=policy) if is_slack_url(url) else WebhookNotifier(ref, policy=policy)
