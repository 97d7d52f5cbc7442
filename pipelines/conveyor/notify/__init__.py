"""Run notifications (Slack Block Kit, generic JSON webhooks) and secret redaction.

Public API::

    from conveyor.notify import RunReport, notifier_from_target, redact, register_secret
    result = notifier_from_target("env:SLACK_WEBHOOK_URL").send(report)   # never raises
    result.delivered, result.attempts, result.last_error                   # last_error is redacted

``redact``/``register_secret``/``RedactingFilter`` are the shared secret
registry other layers (metadata store, CLI, launcher) use to scrub text.
"""

from conveyor.notify.delivery import DeliveryResult, RetryPolicy, post_json
from conveyor.notify.notifiers import (
    Notifier,
    SlackNotifier,
    WebhookNotifier,
    notifier_from_target,
    slack_message,
)
from conveyor.notify.report import SCHEMA_ID, RunReport, normalize_status, run_report_json_schema
from conveyor.notify.secrets import (
    DEFAULT_REGISTRY,
    MASK,
    RedactingFilter,
    SecretRegistry,
    redact,
    register_secret,
    safe_url,
)
from conveyor.notify.targets import NotifyConfigError, TargetRef, parse_target, validate_url

__all__ = [
    "DEFAULT_REGISTRY",
    "MASK",
    "SCHEMA_ID",
    "DeliveryResult",
    "Notifier",
    "NotifyConfigError",
    "RedactingFilter",
    "RetryPolicy",
    "RunReport",
    "SecretRegistry",
    "SlackNotifier",
    "TargetRef",
    "WebhookNotifier",
    "normalize_status",
    "notifier_from_target",
    "parse_target",
    "post_json",
    "redact",
    "register_secret",
    "run_report_json_schema",
    "safe_url",
    "slack_message",
    "validate_url",
]
