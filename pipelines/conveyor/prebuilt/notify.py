"""``conveyor.prebuilt.notify``: an ExitHandler exit task that posts the run's outcome.

Usage::

    from conveyor import dsl
    from conveyor.prebuilt import notify

    @dsl.pipeline
    def training():
        done = notify(webhook="SLACK_WEBHOOK_URL", message="nightly training")
        with dsl.ExitHandler(done):
            ...

``webhook`` is a *reference* - an env var name, ``env:VAR`` or ``file:/path`` - because
arguments are stored in the pipeline spec and the metadata store; a webhook URL is a
secret and must not be. On Argo, put the URL in a Kubernetes Secret and expose it with
``CompileOptions(secret_env={"SLACK_WEBHOOK_URL": "notify/slack"})``.

The task never fails because of delivery: it returns whether the message was delivered,
so a notification problem cannot change the run's result.
"""

from __future__ import annotations

from conveyor.dsl import PipelineTaskFinalStatus, component


@component
def notify(
    status: PipelineTaskFinalStatus,
    webhook: str = "CONVEYOR_NOTIFY_WEBHOOK",
    message: str = "",
    kind: str = "auto",
    pipeline: str = "",
    timeout_s: float = 10.0,
) -> bool:
    """Post the pipeline's final status to Slack (Block Kit) or a generic JSON webhook; True if delivered."""
    import logging
    import os

    from conveyor.notify import (
        NotifyConfigError,
        RetryPolicy,
        RunReport,
        notifier_from_target,
        redact,
        register_secret,
    )

    log = logging.getLogger("conveyor.prebuilt.notify")
    if "://" in webhook:
        register_secret(webhook)
        log.error(
            "notify: 'webhook' must name where the URL is kept (VAR, env:VAR or file:/path), not be the URL: "
            "arguments are stored in the pipeline spec and metadata; nothing was sent"
        )
        return False
    report = RunReport(
        run_id=os.environ.get("CONVEYOR_RUN_ID") or status.pipeline_job_resource_name or "unknown",
        pipeline=pipeline
        or os.environ.get("CONVEYOR_PIPELINE")
        or status.pipeline_job_resource_name
        or "pipeline",
        status=status.state,
        failed_task=(status.pipeline_task_name or None) if status.state != "SUCCEEDED" else None,
        error=status.error_message,
        message=message or None,
    )
    try:
        policy = RetryPolicy(total_timeout_s=timeout_s, attempt_timeout_s=min(3.0, timeout_s))
        notifier = notifier_from_target(webhook, kind=kind, policy=policy)
    except NotifyConfigError as exc:
        log.error("notify: %s; nothing was sent", redact(str(exc)))
        return False
    result = notifier.send(report)
    if result.delivered:
        log.info("notify: delivered after %d attempt(s)", result.attempts)
    else:
        log.warning("notify: not delivered after %d attempt(s): %s", result.attempts, result.last_error)
    return result.delivered
