"""StackConfig: environment-aware defaults, version pins, and >= 12 rejected configs with messages."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from components.config import ALLOWED_CHART_REPOS, TYPE_PREFIX, VERSIONS, ConfigError, StackConfig, type_token


def base(**over):
    data = {
        "environment": "dev",
        "cloud": "aws",
        "region": "us-east-1",
        "teams": [{"name": "team-a"}],
        "gpu_pools": [{"name": "gpu-a10g", "accelerator": "nvidia-a10g"}],
    }
    data.update(over)
    return data


def test_dev_defaults_are_disposable():
    cfg = StackConfig.parse(base())
    assert (cfg.force_destroy, cfg.protect, cfg.deletion_protection, cfg.high_availability) == (
        True,
        False,
        False,
        False,
    )
    assert cfg.db_instance_class == "db.t4g.micro"


def test_prod_defaults_are_durable():
    cfg = StackConfig.parse(base(environment="prod"))
    assert cfg.protect and cfg.deletion_protection and cfg.high_availability and not cfg.force_destroy
    assert cfg.backup_retention_days >= 14


def test_default_instance_type_is_smallest_matching():
    cfg = StackConfig.parse(base(gpu_pools=[{"name": "g", "accelerator": "nvidia-a10g", "gpus_per_node": 4}]))
    assert cfg.pool_instance_type(cfg.gpu_pools[0]) == "g5.12xlarge"
    assert StackConfig.parse(base()).pool_instance_type(StackConfig.parse(base()).gpu_pools[0]) == "g5.xlarge"


def test_versions_are_frozen_and_charts_allowlisted():
    with pytest.raises(ValidationError):
        VERSIONS.kubernetes = "1.99"
    for pin in VERSIONS.charts():
        assert pin.repo in ALLOWED_CHART_REPOS
        assert pin.version and not pin.version.startswith(("^", "~", ">")) and "*" not in pin.version
    assert type_token("Cluster") == f"{TYPE_PREFIX}Cluster" == "conveyor:platform:Cluster"


def test_from_pulumi_parses_structured_keys():
    class FakeConfig:
        values = {"environment": "staging", "cloud": "gcp", "region": "us-central1", "gcp_project": "p-1",
                  "teams": json.dumps([{"name": "t1"}]), "argo": json.dumps({"auth_mode": "sso", "sso_issuer": "https://x"})}  # fmt: skip

        def get(self, key):
            return self.values.get(key)

    cfg = StackConfig.from_pulumi(FakeConfig())
    assert cfg.teams[0].namespace == "ml-t1" and cfg.argo.auth_mode == "sso"


# (config change, key named in message, bad value in message, allowed values in message)
INVALID = [
    ({"environment": "qa"}, "conveyor:environment", "'qa'", "'prod'"),
    ({"cloud": "azure"}, "conveyor:cloud", "'azure'", "'existing'"),
    ({"region": "mars-1"}, "conveyor:region", "'mars-1'", "us-east-1"),
    ({"cloud": "gcp", "region": "us-central1", "gpu_pools": []}, "conveyor:gcp_project", "None", "GCP project id"),
    ({"teams": []}, "conveyor:teams", "[]", "at least 1"),
    ({"teams": [{"name": "Team_A"}]}, "conveyor:teams[0].name", "'Team_A'", "lowercase"),
    ({"teams": [{"name": "a"}, {"name": "a"}]}, "conveyor:teams", "['a', 'a']", "unique"),
    ({"teams": [{"name": "a", "gpu_quota": -1}]}, "conveyor:teams[0].gpu_quota", "-1", "greater than or equal to 0"),
    ({"gpu_pools": [{"name": "g", "accelerator": "nvidia-tpu"}]}, "conveyor:gpu_pools[0].accelerator",
     "'nvidia-tpu'", "nvidia-a10g"),
    ({"gpu_pools": [{"name": "g", "accelerator": "nvidia-tesla-t4"}]}, "conveyor:gpu_pools[0].accelerator",
     "'nvidia-tesla-t4'", "nvidia-t4"),
    ({"gpu_pools": [{"name": "g", "accelerator": "nvidia-a10g", "min_nodes": 3, "max_nodes": 1}]},
     "conveyor:gpu_pools[0]", "min_nodes=3", "min_nodes <= max_nodes"),
    ({"environment": "prod", "gpu_pools": [{"name": "g", "accelerator": "nvidia-a10g", "spot": True, "fallback": False}]},
     "conveyor:gpu_pools[0].fallback", "False", "fallback=true"),
    ({"gpu_pools": [{"name": "g", "accelerator": "nvidia-a10g", "instance_type": "m6i.xlarge"}]},
     "conveyor:gpu_pools[0].instance_type", "'m6i.xlarge'", "g5.xlarge"),
    ({"gpu_pools": [{"name": "g", "accelerator": "nvidia-a10g", "instance_type": "g5.xlarge", "gpus_per_node": 4}]},
     "conveyor:gpu_pools[0].gpus_per_node", "4", "1..1"),
    ({"argo": {"auth_mode": "server"}}, "conveyor:argo.auth_mode", "'server'", "'client', 'sso'"),
    ({"argo": {"auth_mode": "sso"}}, "conveyor:argo", "sso", "sso_issuer"),
    ({"environment": "prod", "database": {"backup_retention_days": 7}}, "conveyor:database.backup_retention_days",
     "7", "14..35"),
    ({"environment": "prod", "object_store": {"force_destroy": True}}, "conveyor:object_store.force_destroy",
     "True", "false"),
    ({"environment": "prod", "database": {"high_availability": False}}, "conveyor:database.high_availability",
     "False", "true"),
    ({"network": {"api_allowed_cidrs": ["0.0.0.0/0"]}}, "conveyor:network.api_allowed_cidrs", "0.0.0.0/0",
     "specific CIDRs"),
    ({"network": {"vpc_cidr": "10.0.0.300/16"}}, "conveyor:network.vpc_cidr", "10.0.0.300/16", "IPv4 or IPv6"),
    ({"argo": {"parallelism": 0}}, "conveyor:argo.parallelism", "0", "greater than or equal to 1"),
    ({"teams": [{"name": "a"}], "default_team": "b"}, "conveyor:default_team", "'b'", "['a']"),
    ({"unknown_key": 1}, "conveyor:unknown_key", "1", "Extra inputs are not permitted"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "key", "value", "allowed"), INVALID, ids=[c[1] + ":" + c[2] for c in INVALID]
)
def test_invalid_config_rejected_with_message(change, key, value, allowed):
    with pytest.raises(ConfigError) as err:
        StackConfig.parse(base(**change))
    line = next((p for p in err.value.problems if p.startswith(key)), None)
    assert line is not None, f"no problem for {key} in {err.value.problems}"
    assert value in line, line
    assert allowed in line, line


def test_at_least_twelve_invalid_configs():
    assert len(INVALID) >= 12
