"""Delivering one JSON POST: retried, bounded in time, never raising.

A notification is a side effect of a run, never part of its result. So
:func:`post_json` swallows every failure into a :class:`DeliveryResult`, retries
what is plausibly transient (connection errors, timeouts, 5xx, 429) with
exponential backoff and full jitter, honours ``Retry-After``, and stops once the
total time budget is spent: a dead or hanging endpoint costs a run at most
``total_timeout_s`` seconds. It uses only the standard library so the runtime
install stays small.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conveyor.notify.secrets import redact, safe_url

log = logging.getLogger("conveyor.notify")

USER_AGENT = "conveyor-notify/1"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. Defaults keep a dead endpoint's cost to ~10 s per run."""

    total_timeout_s: float = 10.0
    attempt_timeout_s: float = 3.0
    max_attempts: int = 6
    backoff_initial_s: float = 0.25
    backoff_factor: float = 2.0
    backoff_max_s: float = 4.0

    def backoff(self, retry_index: int, rng: Callable[[], float]) -> float:
        """Full-jitter backoff for the ``retry_index``-th retry (0-based)."""
        cap = min(self.backoff_max_s, self.backoff_initial_s * (self.backoff_factor**retry_index))
        return cap * rng()


@dataclass(frozen=True)
class DeliveryResult:
    """The outcome of one delivery. ``last_error`` is already redacted."""

    delivered: bool
    attempts: int
    status_code: int | None = None
    last_error: str | None = None
    elapsed_s: float = 0.0


class _Transient(Exception):
    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class _Permanent(Exception):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _attempt(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme validated
            response.read(65536)
            return response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
        retry_after = parse_retry_after(exc.headers.get("Retry-After") if exc.headers else None)
        try:
            detail = exc.read(300).decode("utf-8", "replace").strip()
        except Exception:
            detail = ""
        finally:
            exc.close()
        message = f"HTTP {status}" + (f": {detail}" if detail else "")
        if status == 429 or status >= 500:
            raise _Transient(message, status, retry_after) from None
        raise _Permanent(message, status) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        raise _Transient(f"connection failed: {type(reason).__name__}: {reason}") from None
    except TimeoutError as exc:
        raise _Transient(f"timed out after {timeout:.1f}s ({type(exc).__name__})") from None
    except (ConnectionError, OSError) as exc:
        raise _Transient(f"connection failed: {type(exc).__name__}: {exc}") from None


def post_json(
    url: str,
    payload: Any,
    *,
    policy: RetryPolicy | None = None,
    headers: dict[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    rng: Callable[[], float] = random.random,
) -> DeliveryResult:
    """POST ``payload`` as JSON to ``url``; never raises, never logs the URL."""
    policy = policy or RetryPolicy()
    started = time.monotonic()
    deadline = started + policy.total_timeout_s
    shown = safe_url(url)
    attempts = 0
    status: int | None = None
    last_error: str | None = None
    try:
        body = json.dumps(payload, default=str).encode("utf-8")
    except (TypeError, ValueError) as exc:
        return DeliveryResult(False, 0, None, redact(f"payload is not JSON-serialisable: {exc}"))
    all_headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        **(headers or {}),
    }

    while attempts < policy.max_attempts:
        remaining = deadline - time.monotonic()
        if remaining <= 0.05:
            break
        attempts += 1
        try:
            status = _attempt(url, body, all_headers, min(policy.attempt_timeout_s, remaining))
            elapsed = time.monotonic() - started
            log.info("notification delivered to %s (HTTP %s, attempt %d)", shown, status, attempts)
            return DeliveryResult(True, attempts, status, None, elapsed)
        except _Permanent as exc:
            status, last_error = exc.status, redact(str(exc))
            log.warning("notification to %s rejected: %s (not retried)", shown, last_error)
            break
        except _Transient as exc:
            status, last_error = exc.status, redact(str(exc))
            wait = policy.backoff(attempts - 1, rng)
            if exc.retry_after is not None:
                wait = max(wait, exc.retry_after)
            remaining = deadline - time.monotonic()
            if attempts >= policy.max_attempts or wait >= remaining:
                log.warning(
                    "notification to %s failed: %s (attempt %d, giving up)", shown, last_error, attempts
                )
                break
            log.info("notification to %s failed: %s; retrying in %.2fs", shown, last_error, wait)
            sleep(wait)
        except Exception as exc:  # anything unexpected: report, never raise into the run
            last_error = redact(f"{type(exc).__name__}: {exc}")
            log.warning("notification to %s failed unexpectedly: %s", shown, last_error)
            break
    if last_error is None:
        last_error = f"time budget of {policy.total_timeout_s:.1f}s spent"
    return DeliveryResult(False, attempts, status, last_error, time.monotonic() - started)
