"""Secret registry and redaction shared by every module that writes text somewhere.

Webhook URLs (and any other credential) must never reach a log line, an error
message or the metadata store. Rather than trusting every call site to remember
that, a secret is *registered* once, at the moment it is resolved, and every
sink runs its text through :func:`redact`. The metadata store, the CLI and the
notifiers all share the one process-wide registry, so a secret seen by one layer
is scrubbed by all of them.

On top of the explicit registry, a few well-known credential shapes are masked
by pattern (Slack webhook paths, ``user:password@`` in URLs, ``token=`` query
parameters) so that a secret which was never registered - e.g. pasted into a
component argument - is still not echoed verbatim.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from urllib.parse import urlsplit

MASK = "***"

# Shorter strings are not registered: masking "a" or "1" would shred every log line.
_MIN_SECRET_LEN = 6

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Slack incoming webhooks: the path *is* the credential.
    (re.compile(r"(https?://hooks\.slack(?:-gov)?\.com/)[^\s\"'<>]+", re.I), r"\1" + MASK),
    # Credentials embedded in a URL authority.
    # (bounded scheme length keeps this linear on long, URL-free text such as tracebacks)
    (
        re.compile(r"\b([a-z][a-z0-9+.-]{0,30}://)[^/\s:@\"'<>]{1,256}:[^/\s@\"'<>]{1,256}@", re.I),
        r"\1" + MASK + "@",
    ),
    # Typical token-bearing query parameters.
    (
        re.compile(
            r"([?&](?:token|access_token|key|api_key|apikey|sig|signature|secret)=)[^&\s\"'<>]+", re.I
        ),
        r"\1" + MASK,
    ),
)


class SecretRegistry:
    """A thread-safe set of strings that must never be written anywhere.

    Why a class and not a bare set: tests and embedders can create an isolated
    registry, while the module-level default is what production code shares.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        # Longest first, so a secret containing another is masked whole.
        self._ordered: tuple[str, ...] = ()

    def register(self, secret: str | None) -> None:
        """Remember ``secret`` (and, for URLs, its path/query) for redaction."""
        if not secret:
            return
        candidates = {secret.strip()}
        if "://" in secret:
            candidates.update(_url_secret_parts(secret.strip()))
        with self._lock:
            before = len(self._secrets)
            self._secrets.update(c for c in candidates if len(c) >= _MIN_SECRET_LEN)
            if len(self._secrets) != before:
                self._ordered = tuple(sorted(self._secrets, key=len, reverse=True))

    def register_many(self, secrets: Iterable[str | None]) -> None:
        for s in secrets:
            self.register(s)

    def __contains__(self, value: object) -> bool:
        return value in self._secrets

    def __len__(self) -> int:
        return len(self._secrets)

    def clear(self) -> None:
        with self._lock:
            self._secrets.clear()
            self._ordered = ()

    def redact(self, text: object) -> str:
        """Return ``text`` as a string with every registered secret and known credential shape masked."""
        out = text if isinstance(text, str) else str(text)
        for secret in self._ordered:
            if secret in out:
                out = out.replace(secret, MASK)
        for pattern, repl in _PATTERNS:
            out = pattern.sub(repl, out)
        return out


def _url_secret_parts(url: str) -> set[str]:
    """The parts of a URL that carry the credential: everything after the host.

    A webhook URL's host is public knowledge (hooks.slack.com); its path and
    query are the bearer token. Registering them separately catches messages
    that quote only the path (e.g. an HTTP library logging ``POST /services/...``).
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return set()
    found = set()
    tail = parts.path + (("?" + parts.query) if parts.query else "")
    if tail.strip("/"):
        found.add(tail)
    if parts.password:
        found.add(parts.password)
    return found


def safe_url(url: str) -> str:
    """A printable form of a secret URL: scheme and host only, e.g. ``https://hooks.slack.com/***``."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
    except ValueError:
        return MASK
    if not parts.scheme or not host:
        return MASK
    return f"{parts.scheme}://{host}/{MASK}"


DEFAULT_REGISTRY = SecretRegistry()


def register_secret(secret: str | None) -> None:
    """Register ``secret`` in the process-wide registry used by :func:`redact`."""
    DEFAULT_REGISTRY.register(secret)


def redact(text: object) -> str:
    """Mask every registered secret and known credential pattern in ``text``."""
    return DEFAULT_REGISTRY.redact(text)


class RedactingFilter(logging.Filter):
    """A logging filter that rewrites each record's message through :func:`redact`.

    Attach it to a handler (``handler.addFilter(RedactingFilter())``) so that even
    third-party libraries logging a URL cannot leak a registered secret.
    """

    def __init__(self, registry: SecretRegistry | None = None) -> None:
        super().__init__()
        self._registry = registry or DEFAULT_REGISTRY

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not kill logging
            return True
        cleaned = self._registry.redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True
