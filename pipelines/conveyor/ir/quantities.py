"""Parse Kubernetes-style quantities and durations into plain numbers.

Done once, at build time, so every executor compares numbers and a typo like
"2GB" fails while authoring, naming the value and what is allowed.
"""

from __future__ import annotations

import re

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
_QUANTITY = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([A-Za-z]*)\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?)(ms|s|m|h|d)")


def parse_cpu(value: str | int | float) -> float:
    """`"500m"` → 0.5, `"2"` → 2.0, `1.5` → 1.5 (cores)."""
    if isinstance(value, bool):
        raise ValueError(f"invalid cpu quantity {value!r}; use cores like 2, 0.5 or millicores like '500m'")
    if isinstance(value, int | float):
        number = float(value)
    else:
        match = _QUANTITY.match(str(value))
        if not match or match.group(2) not in ("", "m"):
            raise ValueError(
                f"invalid cpu quantity {value!r}; use cores like '2', '0.5' or millicores like '500m'"
            )
        number = float(match.group(1)) / (1000 if match.group(2) == "m" else 1)
    if number <= 0:
        raise ValueError(f"invalid cpu quantity {value!r}; it must be greater than zero")
    return number


def parse_memory(value: str | int | float) -> int:
    """`"2Gi"` → 2147483648, `"16G"` → 16000000000, `"512M"`, `1024` (bytes)."""
    if isinstance(value, bool):
        raise ValueError(
            f"invalid memory quantity {value!r}; use bytes or a suffix like '512Mi', '2Gi', '16G'"
        )
    if isinstance(value, int | float):
        number = float(value)
    else:
        match = _QUANTITY.match(str(value))
        suffix = match.group(2) if match else None
        if suffix is None or (suffix not in _BINARY and suffix not in _DECIMAL):
            allowed = sorted(set(_BINARY) | set(_DECIMAL) - {""})
            raise ValueError(f"invalid memory quantity {value!r}; use bytes or one of the suffixes {allowed}")
        number = float(match.group(1)) * (_BINARY.get(suffix) or _DECIMAL[suffix])
    if number <= 0:
        raise ValueError(f"invalid memory quantity {value!r}; it must be greater than zero")
    return int(number)


def parse_duration(value: str | int | float) -> float:
    """`"30s"`, `"5m"`, `"1h30m"`, `"3600"`, `90` → seconds."""
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r}; use seconds or a string like '30s', '5m', '1h'")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = str(value).strip()
        try:
            seconds = float(text)
        except ValueError:
            parts = _DURATION_PART.findall(text)
            if not parts or "".join(n + u for n, u in parts) != text:
                raise ValueError(
                    f"invalid duration {value!r}; use seconds or a string like '30s', '5m', '1h30m'"
                ) from None
            seconds = sum(float(n) * _DURATION_UNITS[u] for n, u in parts)
    if seconds < 0:
        raise ValueError(f"invalid duration {value!r}; it must not be negative")
    return seconds
