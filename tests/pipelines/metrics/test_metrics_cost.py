"""Cost estimates: known durations give known figures; bad price tables name the key."""

from __future__ import annotations

import json

import pytest

from conveyor.metrics.cost import (
    DEFAULT_PRICES,
    CostConfigError,
    Usage,
    estimate_task_cost,
    load_prices,
    prices_from_profile,
    saved_by_cache,
)
from conveyor.metrics.cost import (
    normalise_accelerator as norm,
)

PRICES = load_prices(
    {
        "cpu": {"vcpu_hour": 0.04, "gib_hour": 0.005, "spot_vcpu_hour": 0.01, "spot_gib_hour": 0.001},
        "accelerators": {"nvidia-a10g": {"on_demand": 1.0, "spot": 0.4}},
        "pools": {"gpu-a10g-spot": {"accelerator": "a10g"}, "special": {"on_demand": 9.0, "spot": 3.0}},
    }
)


def test_a_pipeline_with_known_durations_costs_what_arithmetic_says():
    """prep: 2 vCPU, 8 GiB, 30 min on-demand; train: 2 GPUs, 90 min spot; eval: cached (10 min saved)."""
    prep = estimate_task_cost({"cpu": 2, "memory_gib": 8}, 1800, prices=PRICES)
    train = estimate_task_cost(
        {"accelerator_count": 2}, 5400, pool="gpu-a10g-spot", capacity="spot", prices=PRICES
    )
    saved = saved_by_cache({"cpu": 1, "memory_gib": 4}, 600, prices=PRICES)
    assert prep == pytest.approx((2 * 0.04 + 8 * 0.005) * 0.5)  # 0.06
    assert train == pytest.approx(2 * 0.4 * 1.5)  # 1.20
    assert saved == pytest.approx((0.04 + 4 * 0.005) / 6)  # 0.01
    assert prep + train == pytest.approx(1.26)


def test_ir_resources_in_bytes_are_understood():
    from conveyor.ir.spec import Resources

    usage = Usage.of(
        Resources(
            cpu_request=4, memory_request=16 * 2**30, accelerator_type="nvidia-tesla-t4", accelerator_count=1
        )
    )
    assert usage == Usage(cpu=4, memory_gib=16, gpus=1, accelerator="nvidia-tesla-t4")
    assert estimate_task_cost(usage, 3600) == DEFAULT_PRICES["accelerators"]["t4"]["on_demand"]


def test_no_requests_means_one_vcpu_and_four_gib_and_local_is_priced_on_demand():
    assert estimate_task_cost(None, 3600, capacity="local", prices=PRICES) == pytest.approx(0.04 + 4 * 0.005)


def test_a_pool_with_its_own_prices_overrides_the_accelerator():
    cost = estimate_task_cost(
        {"gpus": 1}, 3600, pool="special", capacity="spot", accelerator="a10g", prices=PRICES
    )
    assert cost == 3.0


def test_accelerator_spellings_are_one_key():
    assert norm("nvidia-tesla-t4") == norm("NVIDIA-T4") == norm("t4") == "t4"


def test_an_unknown_accelerator_names_the_key_and_the_known_ones():
    with pytest.raises(CostConfigError, match=r"prices\.accelerators\.b200: .*known: .*a10g"):
        estimate_task_cost({"gpus": 1}, 60, accelerator="nvidia-b200", prices=PRICES, strict=True)


def test_a_gpu_pool_without_price_or_accelerator_names_the_pool():
    with pytest.raises(CostConfigError, match=r"prices\.pools\.mystery"):
        estimate_task_cost({"gpus": 1}, 60, pool="mystery", prices=PRICES, strict=True)


def test_strict_pricing_of_a_gpu_task_without_type_or_pool_says_what_to_set():
    with pytest.raises(CostConfigError, match="no accelerator type and no pool") as info:
        estimate_task_cost({"gpus": 1}, 60, prices=PRICES, strict=True)
    assert "None" not in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        ({}, "no accelerator type is set"),
        ({"pool": "mystery"}, "pool 'mystery' has no price"),
        ({"accelerator": "nvidia-b200"}, "'nvidia-b200' has no row"),
    ],
)
def test_an_unpriced_gpu_task_is_estimated_at_the_default_accelerator_with_a_note(kwargs, why):
    from conveyor.metrics.cost import DEFAULT_ACCELERATOR, estimate

    result = estimate({"gpus": 2}, 3600, prices=PRICES, **kwargs)
    assert result.usd == pytest.approx(2 * PRICES.accelerators[DEFAULT_ACCELERATOR].on_demand)
    assert why in result.assumption and DEFAULT_ACCELERATOR in result.assumption
    spot = estimate({"gpus": 1}, 3600, prices=PRICES, capacity="spot", **kwargs)
    assert spot.usd == pytest.approx(PRICES.accelerators[DEFAULT_ACCELERATOR].spot)


def test_a_priced_task_carries_no_assumption_and_the_default_is_overridable():
    from conveyor.metrics.cost import estimate

    assert estimate({"gpus": 1}, 60, accelerator="t4", prices=PRICES).assumption is None
    assert estimate({"cpu": 1}, 60, prices=PRICES).assumption is None
    table = load_prices({"default_accelerator": "nvidia-a10g"})
    assert estimate({"gpus": 1}, 3600, prices=table).usd == table.accelerators["a10g"].on_demand
    with pytest.raises(CostConfigError, match=r"prices\.default_accelerator: .*no row .*\(got 'b200'\)"):
        load_prices({"default_accelerator": "b200"})


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ({"accelerators": {"a10g": {"on_demand": -1, "spot": 0.1}}}, "prices.accelerators.a10g.on_demand"),
        ({"cpu": {"vcpu_hours": 1}}, "prices.cpu.vcpu_hours"),
        ({"currency": "EUR"}, "prices.currency"),
        ({"pools": {"p": {"accelerator": "t4", "spto": 1}}}, "prices.pools.p.spto"),
    ],
)
def test_invalid_overrides_name_the_key(override, key):
    with pytest.raises(CostConfigError, match=key.replace(".", r"\.")):
        load_prices(override)


def test_overrides_load_from_yaml_and_json_files(tmp_path):
    (tmp_path / "p.yaml").write_text("accelerators:\n  nvidia-l4: {on_demand: 0.7, spot: 0.25}\n")
    (tmp_path / "p.json").write_text(json.dumps({"cpu": {"vcpu_hour": 0.05}}))
    assert load_prices(tmp_path / "p.yaml").accelerators["l4"].spot == 0.25
    table = load_prices(str(tmp_path / "p.json"))
    assert table.cpu.vcpu_hour == 0.05 and table.cpu.gib_hour == DEFAULT_PRICES["cpu"]["gib_hour"]
    with pytest.raises(CostConfigError, match="cannot read"):
        load_prices(tmp_path / "missing.yaml")


def test_the_defaults_are_dated_and_sourced():
    table = load_prices()
    assert table.as_of.isoformat() == DEFAULT_PRICES["as_of"] and "us-east-1" in table.source


def test_a_profile_prices_its_gpu_pools_by_accelerator_and_accepts_a_prices_field():
    from conveyor.profile import Profile

    profile = Profile.model_validate(
        {
            "artifact_root": "s3://bucket/pipelines",
            "metadata_url": "postgresql://u:p@db:5432/conveyor",
            "gpu_pools": [
                {
                    "name": "gpu-a10g-spot",
                    "accelerator": "nvidia-a10g",
                    "capacity": "spot",
                    "fallback": "gpu-a10g-ondemand",
                },
                {"name": "gpu-a10g-ondemand", "accelerator": "nvidia-a10g", "capacity": "on-demand"},
            ],
            "prices": {"accelerators": {"a10g": {"spot": 0.33}}},
        }
    )
    table = prices_from_profile(profile)
    assert estimate_task_cost({"gpus": 1}, 3600, pool="gpu-a10g-spot", capacity="spot", prices=table) == 0.33
    assert estimate_task_cost({"gpus": 1}, 3600, pool="gpu-a10g-ondemand", prices=table) == 1.006
