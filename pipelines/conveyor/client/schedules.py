"""kfp's recurring-run triggers in the form `conveyor.launcher.schedule` takes.

KFP cron expressions have six fields, seconds first ("0 0 3 * * *"); Argo's have five. An
`interval_second` becomes a `*/N` minute or hour step when it divides evenly; anything else is
refused with what to write instead rather than rounded silently.
"""

from __future__ import annotations


def cron_from_kfp(cron_expression: str | None, interval_second: int | None) -> str:
    if (cron_expression is None) == (interval_second is None):
        raise ValueError("pass exactly one of cron_expression= or interval_second=")
    if cron_expression is not None:
        fields = cron_expression.split()
        if len(fields) == 6:
            if fields[0] != "0":
                raise ValueError(f"cron_expression {cron_expression!r}: Argo schedules by the minute, so the "
                                 "seconds field (the first of kfp's six) must be 0")
            return " ".join(fields[1:])
        return cron_expression.strip()  # 5-field or @daily: the launcher validates it
    seconds = interval_second
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 60 or seconds % 60:
        raise ValueError(f"interval_second={interval_second!r}: must be a whole number of minutes (>= 60)")
    minutes = seconds // 60
    if minutes < 60 and 60 % minutes == 0:
        return f"*/{minutes} * * * *"
    if minutes == 24 * 60:
        return "0 0 * * *"
    if minutes % 60 == 0 and 24 % (minutes // 60) == 0:
        hours = minutes // 60
        return "0 * * * *" if hours == 1 else f"0 */{hours} * * *"
    raise ValueError(f"interval_second={interval_second}: cannot be written as a cron schedule (a step that "
                     "divides an hour or a day); pass cron_expression= instead")


def concurrency_policy(max_concurrency: int | None) -> str:
    """Argo can forbid overlap or allow it, but not cap it at N > 1."""
    if max_concurrency is None or max_concurrency <= 1:
        return "Forbid"
    return "Allow"
