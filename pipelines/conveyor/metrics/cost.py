"""Estimated cost of tasks, and of the work the cache avoided, from a dated price table.

Why estimates from list prices rather than the cloud bill: the bill arrives days later and per
node, not per task; a run summary needs a number now. The defaults below are public list prices
(dated, with their source) and are easy to override per profile (`prices` field) or from a YAML/
JSON file, because real prices depend on region, discounts and the spot market of the hour.

Pricing model:
- GPU tasks pay per GPU-hour for the pool's accelerator (the price of the smallest one-GPU
  instance, so its CPUs and memory are included), on-demand or spot.
- CPU-only tasks pay per vCPU-hour plus per GiB-hour of their requests (on-demand or spot).
- Local runs are priced as on-demand: "what this would have cost on the cluster".
- A GPU task whose price cannot be found (no accelerator type and no pool price, or an accelerator
  the table does not know) is priced as the table's `default_accelerator` (DEFAULT_ACCELERATOR,
  t4: the commonest and cheapest one-GPU instance, so the estimate is a floor) and the estimate
  carries a note saying so. Why not an error: an estimate must never stop a run. Strict checking
  (`strict=True`, `PriceTable.gpu_hourly`) is for validation that is meant to fail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from conveyor.profile import Profile

Capacity = Literal["on-demand", "spot", "local"]
DEFAULT_CPU = 1.0  # vCPU assumed for a task that requests none
DEFAULT_MEMORY_GIB = 4.0  # GiB assumed for a task that requests none (general-purpose 1:4 ratio)
DEFAULT_ACCELERATOR = "t4"  # prices a GPU task whose accelerator/pool price is unknown (a floor)
GIB = 2**30


class CostConfigError(ValueError):
    """A price table that cannot be used; the message names the key and what is allowed."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GpuPrice(_Model):
    """USD per GPU-hour."""

    on_demand: PositiveFloat
    spot: PositiveFloat


class CpuPrice(_Model):
    """USD per vCPU-hour and per GiB-hour of requested memory."""

    vcpu_hour: PositiveFloat
    gib_hour: PositiveFloat
    spot_vcpu_hour: PositiveFloat
    spot_gib_hour: PositiveFloat


class PoolPrice(_Model):
    """A pool priced by its accelerator's row, or by its own per-GPU-hour prices."""

    accelerator: str | None = None
    on_demand: PositiveFloat | None = None
    spot: PositiveFloat | None = None


class PriceTable(_Model):
    as_of: date
    source: str
    currency: Literal["USD"] = "USD"
    cpu: CpuPrice
    accelerators: dict[str, GpuPrice]
    pools: dict[str, PoolPrice] = Field(default_factory=dict)
    default_accelerator: str = DEFAULT_ACCELERATOR

    @field_validator("default_accelerator")
    @classmethod
    def _default_is_priced(cls, value: str, info: ValidationInfo) -> str:
        known = info.data.get("accelerators") or {}
        if normalise_accelerator(value) not in known:
            raise ValueError(f"no row in prices.accelerators for it (known: {', '.join(sorted(known))})")
        return value

    def gpu_quote(self, pool: str | None, accelerator: str | None, capacity: Capacity) -> tuple[float, str | None]:
        """Per-GPU-hour price and, when it had to be assumed, a note saying why and what was used."""
        try:
            return self.gpu_hourly(pool, accelerator, capacity), None
        except CostConfigError:
            pass
        default = normalise_accelerator(self.default_accelerator)
        gpu = self.accelerators[default]
        if accelerator is None and (pool is None or self.pools.get(pool) is None):
            why = "no accelerator type is set (set_accelerator_type)" + (f" and pool {pool!r} has no price" if pool else "")
        elif accelerator is None:
            why = f"pool {pool!r} has neither a price nor an accelerator in prices.pools"
        else:
            why = f"accelerator {accelerator!r} has no row in prices.accelerators"
        note = (f"{why}; cost estimated at the {default} price ({gpu.spot if capacity == 'spot' else gpu.on_demand}"
                " USD/GPU-hour, prices.default_accelerator)")
        return (gpu.spot if capacity == "spot" else gpu.on_demand), note

    def gpu_hourly(self, pool: str | None, accelerator: str | None, capacity: Capacity) -> float:
        """Per-GPU-hour price for a pool (preferred) or an accelerator type."""
        spot = capacity == "spot"
        row = self.pools.get(pool) if pool else None
        if row is not None:
            own = row.spot if spot else row.on_demand
            if own is not None:
                return own
            accelerator = row.accelerator or accelerator
        if accelerator is None and pool is None:
            raise CostConfigError(
                "a GPU task has no accelerator type and no pool: set its accelerator type "
                f"(one of {', '.join(sorted(self.accelerators))}) or price its pool in prices.pools"
            )
        if accelerator is None:
            raise CostConfigError(
                f"prices.pools.{pool}: no price and no accelerator for pool {pool!r}; "
                f"set prices.pools.{pool}.accelerator (one of {', '.join(sorted(self.accelerators))}) "
                "or its on_demand/spot prices"
            )
        key = normalise_accelerator(accelerator)
        if key not in self.accelerators:
            raise CostConfigError(
                f"prices.accelerators.{key}: no price for accelerator {accelerator!r}; "
                f"known: {', '.join(sorted(self.accelerators))}"
            )
        gpu = self.accelerators[key]
        return gpu.spot if spot else gpu.on_demand


def normalise_accelerator(name: str) -> str:
    """'nvidia-tesla-t4', 'NVIDIA-T4' and 't4' are one accelerator."""
    return re.sub(r"^(nvidia[-_ ])?(tesla[-_ ])?", "", name.strip().lower())


# Public list prices, recorded 2025-01-15. GPUs: AWS EC2 on-demand, us-east-1, Linux, the
# one-GPU instance of each family (A100/H100: the 8-GPU instance divided by 8); spot: typical
# us-east-1 spot price at that date (volatile; often 30-40 % of on-demand). CPU: GCP N2
# on-demand us-central1 per-vCPU and per-GiB rates (AWS does not publish a per-unit split), and
# GCP N2 spot rates. AWS cut P4/P5 on-demand prices in mid-2025: override a100/h100 if you use them.
DEFAULT_PRICES: dict[str, Any] = {
    "as_of": "2025-01-15",
    "source": "AWS EC2 on-demand/spot us-east-1 (GPU); GCP N2 us-central1 (CPU, memory)",
    "currency": "USD",
    "cpu": {"vcpu_hour": 0.031611, "gib_hour": 0.004237, "spot_vcpu_hour": 0.0077, "spot_gib_hour": 0.001},
    "accelerators": {
        "t4": {"on_demand": 0.526, "spot": 0.21},  # g4dn.xlarge
        "a10g": {"on_demand": 1.006, "spot": 0.40},  # g5.xlarge
        "l4": {"on_demand": 0.8048, "spot": 0.32},  # g6.xlarge
        "v100": {"on_demand": 3.06, "spot": 0.92},  # p3.2xlarge
        "a100": {"on_demand": 4.0966, "spot": 1.64},  # p4d.24xlarge / 8
        "h100": {"on_demand": 12.29, "spot": 4.92},  # p5.48xlarge / 8
    },
}


def _format_error(exc: ValidationError, prefix: str) -> CostConfigError:
    lines = []
    for err in exc.errors():
        key = ".".join([prefix, *(str(p) for p in err["loc"])])
        lines.append(f"{key}: {err['msg']} (got {err.get('input')!r})")
    return CostConfigError("invalid price table:\n  " + "\n  ".join(lines))


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_prices(override: Mapping[str, Any] | str | Path | None = None) -> PriceTable:
    """The default table with `override` (a mapping, or a YAML/JSON file path) merged over it.

    Accelerator keys are normalised ('nvidia-a10g' → 'a10g'); errors name the offending key.
    """
    data: Any = override
    if isinstance(override, (str, Path)):
        path = Path(override)
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            raise CostConfigError(f"prices file {path}: cannot read ({exc.strerror})") from exc
        try:
            data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as exc:
            raise CostConfigError(f"prices file {path}: not valid {path.suffix or 'YAML'}: {exc}") from exc
    data = data or {}
    if not isinstance(data, Mapping):
        raise CostConfigError(f"prices: must be a mapping of price settings, got {type(data).__name__}")
    if isinstance(data.get("accelerators"), Mapping):
        data = {
            **data,
            "accelerators": {normalise_accelerator(k): v for k, v in data["accelerators"].items()},
        }
    try:
        return PriceTable.model_validate(_merge(DEFAULT_PRICES, data))
    except ValidationError as exc:
        raise _format_error(exc, "prices") from exc


def prices_from_profile(profile: Profile | Mapping[str, Any]) -> PriceTable:
    """Prices for a profile: its `prices` field over the defaults, and every GPU pool it declares
    priced by its accelerator unless `prices.pools` says otherwise."""
    get = profile.get if isinstance(profile, Mapping) else lambda k, d=None: getattr(profile, k, d)
    override = dict(get("prices", None) or {})
    pools = dict(override.get("pools") or {})
    for pool in get("gpu_pools", None) or []:
        name = pool["name"] if isinstance(pool, Mapping) else pool.name
        accel = pool["accelerator"] if isinstance(pool, Mapping) else pool.accelerator
        pools.setdefault(name, {"accelerator": accel})
    if pools:
        override["pools"] = pools
    return load_prices(override)


class Usage(_Model):
    """What a task holds while it runs, in billing units."""

    cpu: float = DEFAULT_CPU
    memory_gib: float = DEFAULT_MEMORY_GIB
    gpus: int = 0
    accelerator: str | None = None

    @classmethod
    def of(cls, resources: Any) -> Usage:
        """From an IR `Resources` (cpu_request, memory_request bytes, accelerator_*), a mapping
        with those keys or with cpu/memory_gib/gpus/accelerator, or None (the defaults)."""
        if resources is None:
            return cls()
        if isinstance(resources, Usage):
            return resources
        get = resources.get if isinstance(resources, Mapping) else lambda k: getattr(resources, k, None)
        cpu = get("cpu_request") or get("cpu_limit") or get("cpu")
        mem_bytes = get("memory_request") or get("memory_limit")
        mem_gib = mem_bytes / GIB if mem_bytes else get("memory_gib")
        return cls(
            cpu=float(cpu) if cpu else DEFAULT_CPU,
            memory_gib=float(mem_gib) if mem_gib else DEFAULT_MEMORY_GIB,
            gpus=int(get("accelerator_count") or get("gpus") or 0),
            accelerator=get("accelerator_type") or get("accelerator"),
        )


class Estimate(_Model):
    """An estimate in USD and, when a price had to be assumed, the note that says so."""

    usd: float
    assumption: str | None = None


def estimate(
    resources: Any,
    duration_s: float,
    *,
    pool: str | None = None,
    capacity: Capacity = "on-demand",
    accelerator: str | None = None,
    prices: PriceTable | None = None,
    strict: bool = False,
) -> Estimate:
    """USD for holding `resources` for `duration_s` on `pool` at `capacity` (spot/on-demand/local).

    A GPU price that cannot be found is assumed (see the module docstring) unless `strict`, which
    raises CostConfigError naming the key to set instead."""
    if duration_s < 0:
        raise ValueError(f"duration_s: must be >= 0, got {duration_s}")
    if capacity not in ("on-demand", "spot", "local"):
        raise ValueError(f"capacity: {capacity!r} is not one of on-demand, spot, local")
    table = prices or load_prices()
    usage = Usage.of(resources)
    hours = duration_s / 3600.0
    if usage.gpus > 0:
        accel = accelerator or usage.accelerator
        if strict:
            return Estimate(usd=usage.gpus * table.gpu_hourly(pool, accel, capacity) * hours)
        hourly, note = table.gpu_quote(pool, accel, capacity)
        return Estimate(usd=usage.gpus * hourly * hours, assumption=note)
    cpu = table.cpu
    if capacity == "spot":
        return Estimate(usd=(usage.cpu * cpu.spot_vcpu_hour + usage.memory_gib * cpu.spot_gib_hour) * hours)
    return Estimate(usd=(usage.cpu * cpu.vcpu_hour + usage.memory_gib * cpu.gib_hour) * hours)


def estimate_task_cost(resources: Any, duration_s: float, **kwargs: Any) -> float:
    """The USD of `estimate(resources, duration_s, **kwargs)`."""
    return estimate(resources, duration_s, **kwargs).usd


def saved_by_cache(resources: Any, saved_s: float, **kwargs: Any) -> float:
    """USD a cache hit avoided: the cost of re-running the task for its original duration."""
    return estimate_task_cost(resources, saved_s, **kwargs)


class TaskCoster:
    """The cost function of one run: (task name, duration_s) → USD, from each task's resources.

    Notes on assumed prices are kept per task (`assumptions`) for the run summary; a cost
    estimate never raises for a price it cannot find."""

    def __init__(self, resources: Mapping[str, Any], prices: PriceTable):
        self.resources = resources
        self.prices = prices
        self.assumptions: dict[str, str] = {}

    def __call__(self, task: str, seconds: float) -> float:
        result = estimate(self.resources.get(task), seconds, prices=self.prices)
        if result.assumption:
            self.assumptions[task] = result.assumption
        return result.usd

    def warnings(self) -> list[str]:
        return [f"task {task!r}: {note}" for task, note in sorted(self.assumptions.items())]
