"""Compile options and the compile error.

Everything the IR does not say but a cluster needs - the default image, how the
pod gets the spec, pip caching, pod GC, secrets - is an explicit, typed option
here rather than a hidden default inside the mapping code, so the launcher and
`conveyor compile` pass the same knobs and golden files pin their effect.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

LABEL_PREFIX = "conveyor.dev"
DEFAULT_IMAGE = "python:3.11-slim"
RUNTIME_MODULE = "conveyor.runtime.pod"
OUTPUTS_DIR = "/tmp/conveyor/outputs"
SPEC_ENV = "CONVEYOR_SPEC"
PIP_CACHE_PATH = "/conveyor/pip-cache"

# Exit codes shared with conveyor.runtime.outcome (kept literal: the compiler never imports the runtime).
EXIT_PERMANENT = 3
EXIT_PREEMPTED = 143

_SECRET_REF = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?/[-._a-zA-Z0-9]+$")


class CompileError(ValueError):
    """The pipeline cannot be expressed on Argo with these options; the message names pipeline, task and why."""


@dataclass(frozen=True)
class SecretKeyRef:
    """A key of a Kubernetes Secret, written ``secret-name/key``."""

    name: str
    key: str

    @classmethod
    def parse(cls, text: str, what: str) -> SecretKeyRef:
        if not _SECRET_REF.match(text):
            raise CompileError(f"{what}: {text!r} is not a secret reference of the form 'secret-name/key'")
        name, key = text.split("/", 1)
        return cls(name, key)


@dataclass(frozen=True)
class CompileOptions:
    """How to turn one PipelineSpec into one Workflow.

    * ``run_id``: labels every pod and is passed to the runtime; None draws a random one.
    * ``spec_uri``: where the launcher uploaded the spec JSON (``s3://``/``gs://``/``file://``);
      None embeds it (gzip+base64) as the workflow parameter ``conveyor-spec``, passed to pods in
      ``$CONVEYOR_SPEC``. Embedding keeps the manifest self-contained; a URI keeps it small.
    * ``install``: ``auto`` runs the pip prelude only for components with ``packages_to_install``
      or a custom ``base_image``; ``always``/``never`` force it. Images built with conveyor and the
      packages preinstalled set ``CONVEYOR_PREINSTALLED=1`` and skip it at run time.
    * ``conveyor_requirement``: what the prelude installs when ``import conveyor`` fails.
    * ``pip_cache_claim``: a PersistentVolumeClaim mounted as the pip cache (None: no shared cache).
    * ``metadata_secret``: the Secret key holding the metadata DB URL (never inlined).
    * ``secret_env``: extra env vars for every pod from Secrets, e.g. ``{"SLACK_WEBHOOK_URL": "notify/slack"}``.
    * ``arguments``: pipeline parameter values (text form) overriding the spec defaults.
    * ``cached``: task -> output -> text value of tasks already resolved from the cache; they are
      left out and their outputs injected as constants (the launcher's partially cached submit).
    * ``inline_items_max_bytes``: literal ParallelFor lists up to this JSON size go inline in
      ``withItems``; larger ones iterate ``withSequence`` indices and the runtime reads the item
      from the spec, so the manifest does not grow with the item count.
    """

    run_id: str | None = None
    default_image: str = DEFAULT_IMAGE
    spec_uri: str | None = None
    install: Literal["auto", "always", "never"] = "auto"
    conveyor_requirement: str = "conveyor-ml"
    pip_cache_claim: str | None = None
    metadata_secret: str = "conveyor-metadata/url"
    secret_env: Mapping[str, str] = field(default_factory=dict)
    arguments: Mapping[str, str] = field(default_factory=dict)
    cached: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    prefer_spot: bool = True
    pod_gc: str | None = "OnPodSuccess"
    ttl_seconds_after_finished: int | None = 7 * 24 * 3600
    generate_name: str | None = None
    inline_items_max_bytes: int = 4096
    image_pull_policy: str | None = None

    def resolved_run_id(self) -> str:
        return self.run_id or f"run-{secrets.token_hex(6)}"
