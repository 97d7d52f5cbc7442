"""The sections of the stack config: one typed model per structured key (`teams`, `gpu_pools`,
`network`, `object_store`, `database`, `argo`, `monitoring`, `system_pool`, `sources`).

Why a module of their own: each section validates itself (names, ranges, CIDRs, auth modes) without
knowing the environment or the cloud; cross-key rules and the environment-aware defaults stay in
`config.StackConfig`, which composes these and re-exports them (import them from `components.config`).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$")


class FrozenModel(BaseModel):
    """Unknown keys are errors (a typo must not be silently ignored); values never change once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def dns_label(value: str) -> str:
    if not _DNS_LABEL.match(value):
        raise ValueError(
            f"{value!r} is not a DNS label; allowed: lowercase letters, digits and '-', 1-40 chars"
        )
    return value


class Team(FrozenModel):
    """An ML team: gets namespace `ml-<name>`, a workflow service account and quotas."""

    name: str
    gpu_quota: int = Field(default=4, ge=0, le=512)
    cpu_quota: str = "64"
    memory_quota: str = "256Gi"
    max_pods: int = Field(default=200, ge=1)

    _check_name = field_validator("name")(classmethod(lambda cls, v: dns_label(v)))

    @property
    def namespace(self) -> str:
        return f"ml-{self.name}"


class GpuPool(FrozenModel):
    """A GPU node pool from config. Spot pools get an on-demand twin as fallback."""

    name: str
    accelerator: str
    instance_type: str | None = None
    gpus_per_node: int = Field(default=1, ge=1, le=16)
    min_nodes: int = Field(default=0, ge=0)
    max_nodes: int = Field(default=4, ge=0, le=1000)
    spot: bool = True
    fallback: bool = True

    _check_name = field_validator("name")(classmethod(lambda cls, v: dns_label(v)))

    @model_validator(mode="after")
    def _min_le_max(self) -> GpuPool:
        if self.min_nodes > self.max_nodes:
            raise ValueError(
                f"min_nodes={self.min_nodes} is greater than max_nodes={self.max_nodes}; allowed: min_nodes <= max_nodes"
            )
        return self

    @property
    def fallback_name(self) -> str | None:
        return f"{self.name}-ondemand" if self.spot and self.fallback else None


class SystemPool(FrozenModel):
    instance_type: str | None = None
    min_nodes: int = Field(default=1, ge=1)
    max_nodes: int = Field(default=3, ge=1)

    @model_validator(mode="after")
    def _min_le_max(self) -> SystemPool:
        if self.min_nodes > self.max_nodes:
            raise ValueError(f"min_nodes={self.min_nodes} is greater than max_nodes={self.max_nodes}")
        return self


class Network(FrozenModel):
    """Cluster networking. `api_allowed_cidrs` empty = private API endpoint only."""

    vpc_cidr: str = "10.40.0.0/16"
    availability_zones: int = Field(default=2, ge=2, le=3)
    api_allowed_cidrs: list[str] = []
    master_cidr: str = "172.16.0.0/28"

    @field_validator("vpc_cidr", "master_cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        ipaddress.ip_network(v)  # raises ValueError naming the value
        return v

    @field_validator("api_allowed_cidrs")
    @classmethod
    def _cidrs(cls, v: list[str]) -> list[str]:
        for cidr in v:
            if ipaddress.ip_network(cidr).prefixlen == 0:
                raise ValueError(f"{cidr!r} opens the API server to the internet; allowed: specific CIDRs")
        return v


class ObjectStore(FrozenModel):
    bucket: str | None = None
    prefix: str = "pipelines"
    noncurrent_expire_days: int = Field(default=30, ge=1)
    transition_after_days: int | None = Field(default=None, ge=30)
    force_destroy: bool | None = None
    # Existing clusters only: "in-cluster" installs SeaweedFS; "external" uses endpoint + credentials.
    mode: Literal["in-cluster", "external"] = "in-cluster"
    endpoint: str | None = None
    access_key_id: str | None = None
    size: str = "50Gi"


class Database(FrozenModel):
    # Existing clusters only: "in-cluster" installs CloudNativePG; "external" uses `host` (your own
    # Postgres; its password is the secret config `database_password`).
    mode: Literal["in-cluster", "external"] = "in-cluster"
    host: str | None = None
    port: int = Field(default=5432, ge=1, le=65535)
    sslmode: Literal["require", "verify-ca", "verify-full", "prefer", "disable"] = "require"
    instance_class: str | None = None
    storage_gb: int | None = Field(default=None, ge=10)
    backup_retention_days: int | None = Field(default=None, ge=0, le=35)
    high_availability: bool | None = None
    deletion_protection: bool | None = None


class Argo(FrozenModel):
    namespace: str = "argo"  # where the controller, its config and the archive credentials live
    auth_mode: Literal["client", "sso"] = "client"
    _check_namespace = field_validator("namespace")(classmethod(lambda cls, v: dns_label(v)))
    sso_issuer: str | None = None
    parallelism: int = Field(default=50, ge=1)
    namespace_parallelism: int = Field(default=20, ge=1)
    pod_gc_strategy: Literal[
        "OnPodCompletion", "OnPodSuccess", "OnWorkflowCompletion", "OnWorkflowSuccess"
    ] = "OnPodSuccess"
    archive_ttl: str = "30d"
    # Argo's instanceID: set it when the cluster runs another Argo (KFP's, say). This controller then
    # handles only Workflows labelled with it; the profile's `argo_instance_id` makes submit add it.
    instance_id: str | None = None
    _check_instance = field_validator("instance_id")(classmethod(lambda cls, v: v if v is None else dns_label(v)))

    @field_validator("auth_mode", mode="before")
    @classmethod
    def _no_server(cls, v: Any) -> Any:
        if v == "server":
            raise ValueError(
                "'server' lets anyone reach argo-server with its own identity; allowed: 'client', 'sso'"
            )
        return v

    @model_validator(mode="after")
    def _sso_needs_issuer(self) -> Argo:
        if self.auth_mode == "sso" and not self.sso_issuer:
            raise ValueError(
                "auth_mode='sso' needs sso_issuer (an OIDC issuer URL); allowed: set argo.sso_issuer"
            )
        return self


class Monitoring(FrozenModel):
    slack_channel: str = "#ml-platform-alerts"
    retention: str = "15d"
    storage: str = "50Gi"


class Source(FrozenModel):
    """Where an air-gapped install takes one Helm-installed part from (`sources.<part>`).

    Exactly one of: `chart`, a local chart directory, a `.tgz` archive or an `oci://` mirror of the
    pinned chart; `manifests`, YAML files or directories (e.g. the project's own release manifests);
    `provided: true`, the cluster already runs it. `wait: false` skips waiting for workloads to
    become ready (for image mirrors that are filled after the deploy). `images` rewrites the
    images of `manifests` workloads: `{upstream name: mirror reference with tag}`.
    """

    chart: str | None = None
    manifests: list[str] | None = Field(default=None, min_length=1)
    provided: bool = False
    wait: bool = True
    images: dict[str, str] = {}

    @model_validator(mode="after")
    def _one_kind(self) -> Source:
        given = [k for k in ("chart", "manifests", "provided") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(f"set exactly one of chart, manifests, provided (got {given or 'none'})")
        return self
