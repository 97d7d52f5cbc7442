"""Typed stack configuration: every chart/image pin, environment-aware safety defaults, validation.

Why one typed model: platform teams edit `stacks/Pulumi.<stack>.yaml` by hand. A wrong value must
fail before any cloud call, with a message that names the key, the bad value and what is allowed.
Why environment-aware defaults: dev stacks should be cheap and disposable, prod stacks must not
lose data. The defaults encode that difference; prod also *rejects* unsafe overrides.
The per-key section models (teams, GPU pools, network, ...) live in `config_sections.py` and are
re-exported here; the pins and everything that needs the whole stack (cross-key rules, defaults
by environment and cloud) stay in this file.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from components import catalog
from components.config_sections import (
    Argo,
    Database,
    FrozenModel,
    GpuPool,
    Monitoring,
    Network,
    ObjectStore,
    Source,
    SystemPool,
    Team,
    dns_label,
)

__all__ = [  # the sections are re-exported: components import everything config from here
    "ALLOWED_CHART_REPOS", "CLOUDS", "CONFIG_NAMESPACE", "ENVIRONMENTS", "GPU_TAINT", "TYPE_PREFIX", "VERSIONS",
    "WORKFLOW_SERVICE_ACCOUNT", "Argo", "ChartPin", "ConfigError", "Database", "GpuPool", "Monitoring", "Network",
    "ObjectStore", "Source", "StackConfig", "SystemPool", "Team", "Versions", "type_token",
]

TYPE_PREFIX = "conveyor:platform:"
CONFIG_NAMESPACE = "conveyor"
ENVIRONMENTS = ("dev", "staging", "prod")
CLOUDS = ("aws", "gcp", "existing")
WORKFLOW_SERVICE_ACCOUNT = "conveyor-workflow"
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}


def type_token(name: str) -> str:
    """The ComponentResource type token for `name`, e.g. `conveyor:platform:Cluster`."""
    return f"{TYPE_PREFIX}{name}"


class ChartPin(BaseModel):
    """A Helm chart pinned to an exact version from a known repository."""

    model_config = ConfigDict(frozen=True)
    chart: str
    repo: str
    version: str


class Versions(BaseModel):
    """Every chart and image version the platform deploys. Bump here, nowhere else."""

    model_config = ConfigDict(frozen=True)
    kubernetes: str = "1.31"
    argo_workflows: ChartPin = ChartPin(
        chart="argo-workflows", repo="https://argoproj.github.io/argo-helm", version="0.45.26"
    )
    kube_prometheus_stack: ChartPin = ChartPin(
        chart="kube-prometheus-stack",
        repo="https://prometheus-community.github.io/helm-charts",
        version="69.8.2",
    )
    pushgateway: ChartPin = ChartPin(
        chart="prometheus-pushgateway",
        repo="https://prometheus-community.github.io/helm-charts",
        version="3.7.0",
    )
    karpenter: ChartPin = ChartPin(chart="karpenter", repo="oci://public.ecr.aws/karpenter", version="1.1.1")
    gpu_operator: ChartPin = ChartPin(
        chart="gpu-operator", repo="https://helm.ngc.nvidia.com/nvidia", version="v24.9.2"
    )
    cloudnative_pg: ChartPin = ChartPin(
        chart="cloudnative-pg", repo="https://cloudnative-pg.github.io/charts", version="0.23.0"
    )
    seaweedfs: ChartPin = ChartPin(
        chart="seaweedfs", repo="https://seaweedfs.github.io/seaweedfs/helm", version="4.0.404"
    )
    postgres_image: str = "ghcr.io/cloudnative-pg/postgresql:16.6"
    karpenter_ami_alias: str = "al2023@v20250116"
    rds_postgres: str = "16.6"
    cloudsql_postgres: str = "POSTGRES_16"

    def charts(self) -> list[ChartPin]:
        return [v for v in self.__dict__.values() if isinstance(v, ChartPin)]


VERSIONS = Versions()
ALLOWED_CHART_REPOS = tuple(sorted({c.repo for c in VERSIONS.charts()}))


# Environment defaults: dev disposable, prod durable. Keys: see StackConfig._defaults.
_ENV_DEFAULTS: dict[str, dict[str, Any]] = {
    "dev": {"force_destroy": True, "protect": False, "backup_days": 7, "ha": False, "deletion_protection": False,
            "db_class": {"aws": "db.t4g.micro", "gcp": "db-custom-1-3840", "existing": "1"}, "storage_gb": 20},
    "staging": {"force_destroy": False, "protect": False, "backup_days": 7, "ha": False, "deletion_protection": True,
                "db_class": {"aws": "db.t4g.medium", "gcp": "db-custom-2-7680", "existing": "2"}, "storage_gb": 50},
    "prod": {"force_destroy": False, "protect": True, "backup_days": 14, "ha": True, "deletion_protection": True,
             "db_class": {"aws": "db.r6g.large", "gcp": "db-custom-4-15360", "existing": "3"}, "storage_gb": 100},
}  # fmt: skip
_SYSTEM_INSTANCE = {"aws": "m6i.xlarge", "gcp": "e2-standard-4", "existing": None}
_REGION = {"aws": re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$"), "gcp": re.compile(r"^[a-z]+-[a-z]+\d$")}


class StackConfig(FrozenModel):
    """The whole stack, validated. Build it with `from_pulumi()` in a program or `parse()` in tests."""

    environment: Literal["dev", "staging", "prod"]
    cloud: Literal["aws", "gcp", "existing"]
    region: str = "local"
    name: str = "conveyor"
    gcp_project: str | None = None
    kubeconfig_context: str | None = None
    # Existing clusters only: the registry the cluster pulls task images from (clouds create one).
    image_registry: str | None = None
    teams: list[Team] = Field(min_length=1)
    default_team: str | None = None
    gpu_pools: list[GpuPool] = []
    system_pool: SystemPool = SystemPool()
    network: Network = Network()
    object_store: ObjectStore = ObjectStore()
    database: Database = Database()
    argo: Argo = Argo()
    monitoring: Monitoring = Monitoring()
    # Air-gapped installs: a part (a `Versions` chart field) from a local chart, manifests, or the cluster.
    sources: dict[str, Source] = {}
    versions: Versions = VERSIONS

    _check_name = field_validator("name")(classmethod(lambda cls, v: dns_label(v)))

    @model_validator(mode="after")
    def _validate(self) -> StackConfig:
        errors: list[str] = []
        if self.cloud in _REGION and not _REGION[self.cloud].match(self.region):
            errors.append(
                f"region: {self.region!r} is not a {self.cloud} region name (e.g. us-east-1 / us-central1)"
            )
        if self.cloud == "gcp" and not self.gcp_project:
            errors.append("gcp_project: None is not allowed when cloud='gcp'; allowed: a GCP project id")
        names = [t.name for t in self.teams]
        if len(set(names)) != len(names):
            errors.append(f"teams: duplicate team names {names}; allowed: unique names")
        if self.default_team is not None and self.default_team not in names:
            errors.append(f"default_team: {self.default_team!r} is not a team; allowed: {names}")
        pool_names = [p.name for p in self.gpu_pools] + [
            p.fallback_name for p in self.gpu_pools if p.fallback_name
        ]
        if len(set(pool_names)) != len(pool_names):
            errors.append(f"gpu_pools: duplicate pool names {pool_names}; allowed: unique names")
        for i, pool in enumerate(self.gpu_pools):
            errors.extend(f"gpu_pools[{i}].{msg}" for msg in self._pool_errors(pool))
        if (
            self.cloud == "existing"
            and self.object_store.mode == "external"
            and not self.object_store.endpoint
        ):
            errors.append(
                "object_store.endpoint: None is not allowed with mode='external'; allowed: an S3 URL"
            )
        parts = sorted(k for k, v in self.versions.__dict__.items() if isinstance(v, ChartPin))
        errors.extend(f"sources.{k}: not a Helm-installed part; allowed: {parts}" for k in self.sources if k not in parts)
        if self.cloud == "existing" and self.database.mode == "external" and not self.database.host:
            errors.append("database.host: None is not allowed with mode='external'; allowed: a Postgres host name")
        if self.image_registry is not None and self.cloud != "existing":
            errors.append(f"image_registry: {self.image_registry!r} is only for cloud='existing'; "
                          "allowed: unset (aws creates an ECR repository, gcp an Artifact Registry)")
        if self.environment == "prod":
            errors.extend(self._prod_errors())
        if errors:
            raise ValueError("\n".join(errors))
        return self

    def _pool_errors(self, pool: GpuPool) -> list[str]:
        allowed = catalog.accelerators(self.cloud)
        if pool.accelerator not in allowed:
            return [f"accelerator: {pool.accelerator!r} is not offered on {self.cloud}; allowed: {allowed}"]
        out = []
        if self.environment == "prod" and pool.spot and not pool.fallback:
            out.append(
                f"fallback: False on spot pool {pool.name!r} is not allowed in prod; allowed: fallback=true"
            )
        if self.cloud == "existing":
            return out
        itype = pool.instance_type or catalog.default_instance_type(
            self.cloud, pool.accelerator, pool.gpus_per_node
        )
        have = catalog.gpus_available(self.cloud, itype or "", pool.accelerator)
        if itype not in catalog.INSTANCES[self.cloud]:
            out.append(f"instance_type: {itype!r} is unknown on {self.cloud}; allowed: "
                       f"{catalog.gpu_instance_types(self.cloud, pool.accelerator)}")  # fmt: skip
        elif have == 0:
            out.append(f"instance_type: {itype!r} has no {pool.accelerator} GPUs; allowed: "
                       f"{catalog.gpu_instance_types(self.cloud, pool.accelerator)}")  # fmt: skip
        elif pool.gpus_per_node > have:
            out.append(
                f"gpus_per_node: {pool.gpus_per_node} exceeds the {have} GPUs of {itype}; allowed: 1..{have}"
            )
        return out

    def _prod_errors(self) -> list[str]:
        out = []
        if self.object_store.force_destroy:
            out.append("object_store.force_destroy: True is not allowed in prod; allowed: false")
        if self.database.backup_retention_days is not None and self.database.backup_retention_days < 14:
            out.append(f"database.backup_retention_days: {self.database.backup_retention_days} "
                       "is below the prod minimum; allowed: 14..35")  # fmt: skip
        if self.database.high_availability is False:
            out.append("database.high_availability: False is not allowed in prod; allowed: true")
        if self.database.deletion_protection is False:
            out.append("database.deletion_protection: False is not allowed in prod; allowed: true")
        return out

    # ---- resolved, environment-aware values the components read ----
    @property
    def _env(self) -> dict[str, Any]:
        return _ENV_DEFAULTS[self.environment]

    @property
    def protect(self) -> bool:
        """Pulumi `protect` on data resources (bucket, database)."""
        return self._env["protect"]

    @property
    def force_destroy(self) -> bool:
        fd = self.object_store.force_destroy
        return self._env["force_destroy"] if fd is None else fd

    @property
    def backup_retention_days(self) -> int:
        days = self.database.backup_retention_days
        return self._env["backup_days"] if days is None else days

    @property
    def high_availability(self) -> bool:
        ha = self.database.high_availability
        return self._env["ha"] if ha is None else ha

    @property
    def deletion_protection(self) -> bool:
        dp = self.database.deletion_protection
        return self._env["deletion_protection"] if dp is None else dp

    @property
    def db_instance_class(self) -> str:
        return self.database.instance_class or self._env["db_class"][self.cloud]

    @property
    def db_storage_gb(self) -> int:
        return self.database.storage_gb or self._env["storage_gb"]

    @property
    def system_instance_type(self) -> str | None:
        return self.system_pool.instance_type or _SYSTEM_INSTANCE[self.cloud]

    def source(self, part: str) -> Source | None:
        """The air-gapped source of a `Versions` chart part, or None (its pinned chart repository)."""
        return self.sources.get(part)

    @property
    def primary_team(self) -> Team:
        return next((t for t in self.teams if t.name == self.default_team), self.teams[0])

    def pool_instance_type(self, pool: GpuPool) -> str | None:
        return pool.instance_type or catalog.default_instance_type(
            self.cloud, pool.accelerator, pool.gpus_per_node
        )

    @classmethod
    def parse(cls, data: dict[str, Any]) -> StackConfig:
        """Validate a plain mapping; raise `ConfigError` with one line per problem."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ConfigError.from_validation(exc) from None

    @classmethod
    def from_pulumi(cls, config: Any) -> StackConfig:
        """Read every key from a `pulumi.Config("conveyor")` (structured keys are JSON objects)."""
        data: dict[str, Any] = {}
        for key in cls.model_fields:
            if key == "versions":
                continue
            raw = config.get(key)
            if raw is None:
                continue
            data[key] = json.loads(raw) if raw[:1] in ("[", "{") else raw
        return cls.parse(data)


class ConfigError(ValueError):
    """Invalid stack config. Each line: `conveyor:<key>: <problem naming value and allowed values>`."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid stack config:\n  " + "\n  ".join(problems))

    @classmethod
    def from_validation(cls, exc: ValidationError) -> ConfigError:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in err["loc"]).replace(
                ".[", "["
            )
            msg = err["msg"].removeprefix("Value error, ")
            key = f"{CONFIG_NAMESPACE}:{loc}" if loc else CONFIG_NAMESPACE
            if err["type"] == "value_error" and not loc:
                problems.extend(f"{CONFIG_NAMESPACE}:{part}" for part in msg.split("\n"))
                continue
            shown = err.get("input")
            got = "" if isinstance(shown, dict) or err["type"] == "missing" else f" (got {shown!r})"
            problems.append(f"{key}: {msg}{got}")
        return cls(problems)
