"""The connection profile: the one contract between the platform and the runtime.

`__main__.py` exports it as the stack output `profile`; `conveyor submit --profile
profile.json` or `--stack NAME` reads it back. The local profile is implicit and goes
through the same model, so local and cluster runs share every code path after this.
Key names follow ARCHITECTURE.md and must never be renamed, only added to.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

ARTIFACT_SCHEMES = ("s3://", "gs://", "file://")
_DNS_SUBDOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(?=.{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
METADATA_SCHEMES = ("postgresql://", "postgresql+psycopg://", "postgres://", "sqlite://")


class ProfileError(ValueError):
    """A profile that cannot be used; the message names the field and what is allowed."""


class Taint(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    key: str
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


class GpuPool(BaseModel):
    """A node pool the compiler can place GPU tasks on; spot pools name their on-demand fallback."""

    model_config = ConfigDict(frozen=True, extra="allow")
    name: str
    labels: dict[str, str] = Field(default_factory=dict)
    taints: list[Taint] = Field(default_factory=list)
    accelerator: str
    capacity: Literal["spot", "on-demand"]
    fallback: str | None = None


class Profile(BaseModel):
    """Where runs execute and where their metadata and artifacts go."""

    model_config = ConfigDict(frozen=True, extra="allow")
    cloud: Literal["aws", "gcp", "existing", "local"] = "local"
    region: str = "local"
    environment: str = "local"
    kubeconfig: SecretStr | None = None
    namespace: str = "default"
    service_account: str = "default"
    artifact_root: str
    metadata_url: SecretStr
    pushgateway_url: str | None = None
    # Where `conveyor image build --push` sends task images and where the compiler names them from.
    image_registry: str | None = None
    # A Secret in `namespace` whose keys every task pod gets as environment variables (envFrom), for
    # what a workload identity does not cover: e.g. an S3-compatible store's endpoint and keys
    # (AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, ...) or CONVEYOR_NOTIFY_WEBHOOK. Only the name is here.
    pod_env_secret: str | None = None
    # An S3-compatible store's endpoint (existing clusters; the stack exports it). Not a secret: it
    # reaches pods as AWS_ENDPOINT_URL_S3 and the client's store as its endpoint.
    artifact_endpoint: str | None = None
    # The platform's Argo `instanceID`: a cluster may run several Argo controllers (KFP brings its
    # own), and each handles only the Workflows labelled with its ID. None: the unlabelled default.
    argo_instance_id: str | None = None
    gpu_pools: list[GpuPool] = Field(default_factory=list)

    @field_validator("artifact_root")
    @classmethod
    def _artifact_scheme(cls, value: str) -> str:
        if not value.startswith(ARTIFACT_SCHEMES):
            raise ValueError(f"artifact_root {value!r} must start with one of {', '.join(ARTIFACT_SCHEMES)}")
        return value

    @field_validator("metadata_url")
    @classmethod
    def _metadata_scheme(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value()
        if not raw.startswith(METADATA_SCHEMES):
            scheme = raw.split("://", 1)[0] if "://" in raw else "(none)"
            raise ValueError(f"metadata_url scheme {scheme!r} is not one of {', '.join(METADATA_SCHEMES)}")
        return value

    @field_validator("pod_env_secret")
    @classmethod
    def _secret_name(cls, value: str | None) -> str | None:
        if value is not None and not _DNS_SUBDOMAIN.match(value):
            raise ValueError(f"pod_env_secret {value!r} is not a Kubernetes Secret name (lowercase letters, digits, "
                             "'-' and '.', starting and ending with a letter or digit, at most 253 characters)")
        return value

    @field_validator("argo_instance_id")
    @classmethod
    def _label_value(cls, value: str | None) -> str | None:
        if value is not None and not _LABEL_VALUE.match(value):
            raise ValueError(f"argo_instance_id {value!r} is not a Kubernetes label value (letters, digits, '-', "
                             "'_' and '.', starting and ending with a letter or digit, at most 63 characters)")
        return value

    @field_validator("gpu_pools")
    @classmethod
    def _fallbacks_exist(cls, pools: list[GpuPool]) -> list[GpuPool]:
        names = {p.name for p in pools}
        for pool in pools:
            if pool.fallback is not None and pool.fallback not in names:
                raise ValueError(f"gpu_pools[{pool.name}].fallback {pool.fallback!r} is not a pool; pools: {sorted(names)}")
        return pools

    def artifact_store_options(self) -> dict[str, str]:
        """Constructor options of the artifact store for `artifact_root` (``open_artifact_store``)."""
        if self.artifact_endpoint and self.artifact_root.startswith("s3://"):
            return {"endpoint_url": self.artifact_endpoint}
        return {}

    @property
    def is_local(self) -> bool:
        return self.cloud == "local"

    def pool(self, name: str) -> GpuPool:
        for pool in self.gpu_pools:
            if pool.name == name:
                return pool
        raise ProfileError(f"gpu pool {name!r} is not in the profile; pools: {[p.name for p in self.gpu_pools]}")


def conveyor_home() -> Path:
    """`CONVEYOR_HOME`, or `.conveyor` in the working directory: all local state lives here."""
    return Path(os.environ.get("CONVEYOR_HOME") or Path.cwd() / ".conveyor").resolve()


def local_profile(home: Path | None = None) -> Profile:
    """SQLite and a local folder under CONVEYOR_HOME; `CONVEYOR_METADATA_URL` (e.g. a Postgres URL) and
    `CONVEYOR_ARTIFACT_ROOT` (s3://, gs://) point a laptop run at shared stores instead."""
    home = home or conveyor_home()
    return _validate({
        "artifact_root": os.environ.get("CONVEYOR_ARTIFACT_ROOT") or (home / "artifacts").as_uri(),
        "metadata_url": os.environ.get("CONVEYOR_METADATA_URL") or f"sqlite:///{home / 'metadata.db'}",
        "pushgateway_url": os.environ.get("CONVEYOR_PUSHGATEWAY") or None,
    }, "local profile (CONVEYOR_METADATA_URL / CONVEYOR_ARTIFACT_ROOT)")


def _validate(data: object, source: str) -> Profile:
    if isinstance(data, dict) and "profile" in data and "artifact_root" not in data:
        data = data["profile"]  # the whole `pulumi stack output --json` object
    if not isinstance(data, dict):
        raise ProfileError(f"{source}: a profile is a JSON object, got {type(data).__name__}")
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(profile)"
            problems.append(f"{where}: {err['msg']}")
        raise ProfileError(f"{source}: invalid profile: " + "; ".join(problems)) from None


def load_profile(path: str | Path) -> Profile:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ProfileError(f"profile file {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProfileError(f"profile file {path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    return _validate(data, f"profile file {path}")


def profile_from_stack(stack: str, cwd: str | Path | None = None) -> Profile:
    """Read the profile straight from Pulumi state, for users who have the CLI."""
    if shutil.which("pulumi") is None:
        raise ProfileError(
            f"--stack {stack}: the Pulumi CLI is not on PATH; export the profile with "
            "`pulumi stack output --json --show-secrets profile > profile.json` and pass --profile"
        )
    proc = subprocess.run(
        ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", stack],
        capture_output=True, text=True, cwd=cwd, check=False,
    )
    if proc.returncode != 0:
        raise ProfileError(f"--stack {stack}: `pulumi stack output` failed: {proc.stderr.strip()[-300:]}")
    return _validate(json.loads(proc.stdout), f"stack {stack}")


PROFILE_ENV, STACK_ENV = "CONVEYOR_PROFILE", "CONVEYOR_STACK"


def resolve_profile(profile: str | Path | Profile | None = None, stack: str | None = None) -> Profile | None:
    """The profile of a kfp-style entry point (``Client``, ``Compiler().compile``), which has no
    ``--profile`` flag: the argument, else ``$CONVEYOR_PROFILE`` / ``$CONVEYOR_STACK``; None for none."""
    profile = profile if profile is not None else os.environ.get(PROFILE_ENV) or None
    stack = stack if stack is not None else os.environ.get(STACK_ENV) or None
    if profile is not None and stack is not None:
        raise ProfileError(f"pass either profile= or stack= (or set {PROFILE_ENV} or {STACK_ENV}), not both")
    if stack is not None:
        return profile_from_stack(stack)
    if profile is None or isinstance(profile, Profile):
        return profile
    return load_profile(profile)
