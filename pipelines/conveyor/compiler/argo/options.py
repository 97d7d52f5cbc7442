"""Compile options and the compile error.

Everything the IR does not say but a cluster needs - the task image, how the
pod gets the spec, pod GC, secrets - is an explicit, typed option
here rather than a hidden default inside the mapping code, so the launcher and
`conveyor compile` pass the same knobs and golden files pin their effect.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

LABEL_PREFIX = "conveyor.dev"
RUNTIME_DIST = "conveyor-ml"
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
class PinnedInstall:
    """Opt-in only: pods ``pip install`` the runtime at start, from this index at this exact version.

    The default is a built task image with nothing installed at pod start. An unpinned
    ``pip install conveyor-ml`` would run whatever any index serves under that name in every pod,
    so the index and an exact version are both required."""

    index_url: str
    version: str

    def __post_init__(self) -> None:
        from packaging.version import InvalidVersion, Version

        if not re.match(r"^https?://[^\s/]+", self.index_url or ""):
            raise CompileError(f"pinned install: index_url {self.index_url!r} must be an http(s):// URL of a package index")
        try:
            Version(self.version)
        except InvalidVersion:
            raise CompileError(f"pinned install: version {self.version!r} is not an exact version like '0.1.0'") from None

    @property
    def requirement(self) -> str:
        return f"{RUNTIME_DIST}[pod]=={self.version}"


@dataclass(frozen=True)
class CompileOptions:
    """How to turn one PipelineSpec into one Workflow.

    * ``run_id``: labels every pod and is passed to the runtime; None draws a random one.
    * ``spec_uri``: where the launcher uploaded the spec JSON (``s3://``/``gs://``/``file://``);
      None embeds it (gzip+base64) as the workflow parameter ``conveyor-spec``, passed to pods in
      ``$CONVEYOR_SPEC``. Embedding keeps the manifest self-contained; a URI keeps it small.
    * ``image``: the task image of every component without its own ``base_image``; None names the one
      ``conveyor image build`` makes for this pipeline: ``<profile image_registry>/conveyor-task:<tag>``
      (``conveyor.images.naming``). Neither an image nor a registry is a CompileError.
    * ``pinned_install``: opt-in prelude that pip-installs the runtime and ``packages_to_install`` at pod
      start from a named index at an exact version (needs ``image``, e.g. a plain Python image).
    * ``pip_cache_claim``: with ``pinned_install``, a PersistentVolumeClaim mounted as the pip cache.
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
    image: str | None = None
    spec_uri: str | None = None
    pinned_install: PinnedInstall | None = None
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
