"""Webhook targets: where a URL comes from, and checking it without leaking it.

A notification target is given as a *reference* - ``env:VAR``, a bare ``VAR``,
``file:/path`` - or, on the command line only, as a literal URL. References
are what travels through pipeline specs and metadata; the URL itself is read
as late as possible (at send time), registered as a secret the moment it is
read, and only ever printed as ``scheme://host/***``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from conveyor.notify.secrets import MASK, register_secret, safe_url

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$")

SLACK_HOSTS = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})


class NotifyConfigError(ValueError):
    """A notification target is malformed, missing, or not an http(s) URL.

    Messages name the reference (``env:SLACK_URL``, a file path) and at most the
    URL's scheme and host - never its path, query or credentials.
    """


@dataclass(frozen=True)
class TargetRef:
    """A parsed target reference. ``kind`` is ``url``, ``env`` or ``file``.

    For ``url`` the value is the URL itself, so ``str()``/``repr()`` hide it.
    """

    kind: str
    value: str

    def describe(self) -> str:
        """Safe to print: the reference, or for literal URLs only scheme and host."""
        if self.kind == "env":
            return f"env:{self.value}"
        if self.kind == "file":
            return f"file:{self.value}"
        return safe_url(self.value)

    def __repr__(self) -> str:
        return f"TargetRef({self.kind}, {self.describe()!r})"

    __str__ = describe

    def resolve(self) -> str:
        """Read the URL now, register it as a secret and validate it."""
        if self.kind == "url":
            url = self.value
        elif self.kind == "env":
            raw = os.environ.get(self.value)
            if raw is None or not raw.strip():
                raise NotifyConfigError(
                    f"notify target env:{self.value}: environment variable {self.value} is not set"
                )
            url = raw
        else:
            path = Path(self.value).expanduser()
            try:
                url = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                raise NotifyConfigError(f"notify target file:{self.value}: file does not exist") from None
            except (OSError, UnicodeDecodeError) as exc:
                raise NotifyConfigError(
                    f"notify target file:{self.value}: cannot read file ({type(exc).__name__})"
                ) from None
            if not url.strip():
                raise NotifyConfigError(f"notify target file:{self.value}: file is empty")
        url = url.strip()
        register_secret(url)
        validate_url(url, source=self.describe() if self.kind != "url" else None)
        return url


def parse_target(target: str) -> TargetRef:
    """Parse ``URL`` | ``env:VAR`` | ``VAR`` | ``file:/path`` into a :class:`TargetRef` (nothing is read yet)."""
    if not isinstance(target, str) or not target.strip():
        raise NotifyConfigError("notify target is empty; expected a URL, env:VAR, VAR or file:/path")
    text = target.strip()
    lower = text.lower()
    if lower.startswith("env:"):
        name = text[4:].strip()
        if not _ENV_NAME.match(name):
            raise NotifyConfigError(f"notify target env:{name!r}: not a valid environment variable name")
        return TargetRef("env", name)
    if lower.startswith("file:"):
        path = text[5:].strip()
        if path.startswith("//"):  # file:///abs/path
            path = path[2:]
        if not path:
            raise NotifyConfigError("notify target file:: no path given")
        return TargetRef("file", path)
    if "://" in text:
        register_secret(text)
        validate_url(text)
        return TargetRef("url", text)
    if _ENV_NAME.match(text):
        return TargetRef("env", text)
    # Do not echo it: it may be a URL pasted without its scheme.
    raise NotifyConfigError(
        "notify target is not a URL, env:VAR, VAR or file:/path "
        f"(got {len(text)} characters starting with {text[:1]!r})"
    )


def validate_url(url: str, *, source: str | None = None) -> None:
    """Raise :class:`NotifyConfigError` unless ``url`` is an absolute http(s) URL with a sane host."""
    where = f"notify target {source}" if source else "notify target"
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError on a non-numeric or out-of-range port
    except ValueError:
        raise NotifyConfigError(f"{where}: malformed URL (bad port or brackets)") from None
    scheme = parts.scheme.lower()
    if not scheme:
        raise NotifyConfigError(f"{where}: not a URL (no scheme); expected https://...")
    if scheme not in ("http", "https"):
        raise NotifyConfigError(
            f"{where}: scheme {scheme!r} is not allowed; use https:// (or http:// for loopback)"
        )
    host = parts.hostname or ""
    if not host:
        raise NotifyConfigError(f"{where}: URL has no host ({scheme}://{MASK})")
    shown_host = host if _HOST.match(host) or _HOST.match(f"[{host}]") else "<invalid>"
    if shown_host == "<invalid>" or any(ch.isspace() for ch in url):
        raise NotifyConfigError(
            f"{where}: malformed URL host or whitespace in URL ({scheme}://{shown_host}/{MASK})"
        )


def is_slack_url(url: str) -> bool:
    try:
        return (urlsplit(url).hostname or "").lower() in SLACK_HOSTS
    except ValueError:
        return False
