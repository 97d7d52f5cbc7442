"""Argo-safe, unique, deterministic names.

IR names are Python identifiers (``train_model``, ``for-loop-1``); Argo wants
DNS-label-like template and task names (``[a-z0-9-]``, at most 63 chars for
labels) and ``[-a-zA-Z0-9_]`` parameter names. The mapping must be stable
(golden files, re-submits) and collision-free, so it lives in one allocator.
"""

from __future__ import annotations

import hashlib
import re

_NON_DNS = re.compile(r"[^a-z0-9-]+")
_NON_PARAM = re.compile(r"[^-a-zA-Z0-9_]+")
_NON_LABEL = re.compile(r"[^-A-Za-z0-9_.]+")
MAX_NAME = 63


def dns_name(text: str, max_len: int = MAX_NAME) -> str:
    """Lowercase, ``_``/``.``/others to ``-``, trimmed to ``max_len`` with a short hash when cut."""
    name = _NON_DNS.sub("-", text.lower()).strip("-") or "x"
    name = re.sub(r"-{2,}", "-", name)
    if not name[0].isalnum():
        name = "x" + name
    if len(name) > max_len:
        digest = hashlib.sha256(text.encode()).hexdigest()[:6]
        name = name[: max_len - 7].rstrip("-") + "-" + digest
    return name


def param_name(text: str) -> str:
    return _NON_PARAM.sub("-", text).strip("-") or "x"


def label_value(text: str) -> str:
    """A valid Kubernetes label value (<= 63 chars, alphanumeric at both ends)."""
    value = _NON_LABEL.sub("-", text)[:MAX_NAME].strip("-_.")
    return value or "x"


class NameAllocator:
    """Hands out unique DNS names; the same key always gets the same name."""

    def __init__(self, reserved: tuple[str, ...] = ()) -> None:
        self._by_key: dict[object, str] = {}
        self._taken: set[str] = set(reserved)

    def name(self, key: object, wanted: str) -> str:
        if key in self._by_key:
            return self._by_key[key]
        base = dns_name(wanted)
        candidate, n = base, 1
        while candidate in self._taken:
            n += 1
            suffix = f"-{n}"
            candidate = base[: MAX_NAME - len(suffix)] + suffix
        self._taken.add(candidate)
        self._by_key[key] = candidate
        return candidate


LABEL_KEY_TASK = "conveyor.dev/task"
LABEL_KEY_RUN = "conveyor.dev/run-id"
LABEL_KEY_PIPELINE = "conveyor.dev/pipeline"
# Argo's own: a controller with an instanceID handles only Workflows carrying it (profile.argo_instance_id).
LABEL_KEY_ARGO_INSTANCE = "workflows.argoproj.io/controller-instanceid"


def expr(path: str) -> str:
    """An Argo template reference: ``expr("inputs.parameters.x")`` -> ``{{inputs.parameters.x}}``."""
    return "{{" + path + "}}"
