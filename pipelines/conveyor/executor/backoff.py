"""Retry delays: exponential backoff with full jitter, capped.

Jitter spreads retries of many tasks that failed together (a flaky service, a spot reclaim)
so they do not hit the same dependency in lock-step.
"""

from __future__ import annotations

import random

from conveyor.ir.spec import RetryPolicy


def retry_delay(policy: RetryPolicy, failed_attempts: int, rng: random.Random | None = None) -> float:
    """Delay before attempt `failed_attempts + 1`; `failed_attempts` starts at 1."""
    base = policy.backoff_duration_s * policy.backoff_factor ** max(failed_attempts - 1, 0)
    ceiling = min(base, policy.backoff_max_duration_s)
    if ceiling <= 0:
        return 0.0
    return (rng or random).uniform(ceiling / 2, ceiling)
