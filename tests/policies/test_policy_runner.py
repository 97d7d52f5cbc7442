"""The offline runner: server-faithful inputs, config handling, reports, and the broken program.

Why: CI trusts the runner's verdict in place of `pulumi preview --policy-pack`, so it must hand
rules what the analyzer server would (floats, unwrapped secrets, unknown-raising proxy), honour the
pack config the CLI would, and fail the build exactly when a mandatory rule is violated.
"""

from __future__ import annotations

import json
from pathlib import Path

import pulumi_policy
import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from pulumi_policy.proxy import UnknownValueError
from rich.console import Console

from conveyor.platform import policy_runner as pr
from conveyor.platform.mocks import UNKNOWN, RecordedResource, Secret

BROKEN = Path(__file__).parent / "broken_program"
RDS = "aws:rds/instance:Instance"


def res(type_: str, name: str, inputs: dict, stack: str = "dev-aws", **kw) -> RecordedResource:
    urn = f"urn:pulumi:{stack}::p::{type_}::{name}"
    return RecordedResource(urn=urn, type=type_, name=name, parent=None, custom=True, inputs=inputs, **kw)


def test_private_helpers_are_pinned_to_a_supported_sdk():
    version = Version(pulumi_policy.__version__ if hasattr(pulumi_policy, "__version__") else _sdk_version())
    assert SpecifierSet(pr.SUPPORTED_POLICY_SDK).contains(version, prereleases=True), version


def _sdk_version() -> str:
    from importlib.metadata import version

    return version("pulumi-policy")


def test_props_look_like_the_servers():
    props = pr.policy_props({"n": 7, "s": Secret("pw"), "l": [{"a": 1}], "u": UNKNOWN})
    assert props["n"] == 7.0 and isinstance(props["n"], float)  # protobuf Struct numbers
    assert props["s"] == "pw"  # secrets arrive unwrapped
    assert not isinstance(props["l"], list) and props["l"][0]["a"] == 1.0  # read-only proxy, not a list
    with pytest.raises(UnknownValueError):
        props["u"]  # noqa: B018 - reading it is the test


def test_unknown_input_is_a_note_not_a_pass_or_violation():
    report = pr.evaluate([res(RDS, "db", {"storageEncrypted": UNKNOWN, "backupRetentionPeriod": 7})])
    assert "rds-storage-encrypted" not in report.rule_ids()
    assert [n.rule for n in report.notes] == ["rds-storage-encrypted"]
    assert "storageEncrypted" in report.notes[0].message


def test_mandatory_violation_fails_and_advisory_does_not():
    public = pr.evaluate([res(RDS, "db", {"publiclyAccessible": True})])
    assert not public.passed and public.exit_code == 1
    assert "rds-not-publicly-accessible" in public.rule_ids("mandatory")
    good = {
        "storageEncrypted": True,
        "backupRetentionPeriod": 14,
        "deletionProtection": True,
        "iamDatabaseAuthenticationEnabled": True,
    }
    prod = pr.evaluate([res(RDS, "db", good, stack="prod-aws")])
    assert prod.rule_ids("advisory") == {"rds-multi-az-prod"} and prod.passed and prod.exit_code == 0


def test_pack_config_overrides_levels_and_thresholds():
    resources = [res(RDS, "db", {"publiclyAccessible": True, "backupRetentionPeriod": 3})]
    config = {
        "rds-not-publicly-accessible": "advisory",
        "rds-backup-retention": {"minimumRetentionDays": 3},
        "rds-iam-authentication": {"enforcementLevel": "disabled"},
        "rds-storage-encrypted": "disabled",
    }
    report = pr.evaluate(resources, policy_config=config)
    assert report.rule_ids("mandatory") == set()
    assert report.rule_ids("advisory") == {"rds-not-publicly-accessible"}
    assert report.policies == len(pr.load_pack().policies) - 2
    everything_advisory = pr.evaluate(resources, policy_config={"all": "advisory"})
    assert everything_advisory.passed and everything_advisory.mandatory == []


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ({"no-such-rule": "advisory"}, "unknown rule"),
        ({"rds-backup-retention": {"minDays": 3}}, "unknown key"),
        ({"rds-backup-retention": "blocking"}, "enforcementLevel"),
    ],
)
def test_bad_pack_config_is_rejected_with_the_key(config, says):
    with pytest.raises(pr.PolicyConfigError, match=says):
        pr.evaluate([], policy_config=config)


def test_a_crashing_rule_is_an_error_not_a_pass():
    report = pr.evaluate([res(RDS, "db", {"backupRetentionPeriod": "not-a-number"})])
    assert report.exit_code == 2 and "rds-backup-retention" in report.errors[0]


def test_broken_program_is_caught_by_rule_id():
    report = pr.check_program(BROKEN)
    assert not report.errors, report.errors
    caught = report.rule_ids("mandatory")
    assert {
        "s3-no-public-acl",
        "s3-bucket-has-public-access-block",
        "s3-public-access-block-complete",
        "rds-not-publicly-accessible",
        "eks-endpoint-not-public",
        "k8s-no-privileged-containers",
    } <= caught
    by_rule = {v.rule: v for v in report.violations}
    assert by_rule["rds-not-publicly-accessible"].resource_name == "public-db"
    assert (
        by_rule["s3-bucket-has-public-access-block"].resource_name == "public-bucket"
    )  # stack rule -> bucket URN
    assert by_rule["k8s-no-privileged-containers"].resource_type == "kubernetes:core/v1:Pod"
    assert report.exit_code == 1


def test_preview_mode_still_catches_the_broken_program():
    report = pr.check_program(BROKEN, preview=True)
    assert {"rds-not-publicly-accessible", "s3-bucket-has-public-access-block"} <= report.rule_ids(
        "mandatory"
    )


def test_program_config_file_is_honoured():
    report = pr.check_program(BROKEN, BROKEN / "Pulumi.fixed-db.yaml")
    assert report.target == "Pulumi.fixed-db.yaml"
    assert "rds-not-publicly-accessible" not in report.rule_ids()
    assert "eks-endpoint-not-public" in report.rule_ids()


def test_program_that_fails_is_reported_as_error(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: boom\nruntime: python\n")
    (tmp_path / "__main__.py").write_text("raise ValueError('config key x: bad value')\n")
    report = pr.check_program(tmp_path)
    assert report.exit_code == 2 and "bad value" in report.errors[0]
    assert pr.exit_code({"a": report, "b": pr.Report("b", "", "p")}) == 2


def test_json_and_table_render_the_violations():
    report = pr.evaluate([res(RDS, "db", {"publiclyAccessible": True})], target="unit")
    data = json.loads(report.to_json())
    assert data["passed"] is False and data["exit_code"] == 1 and data["target"] == "unit"
    row = next(v for v in data["violations"] if v["rule"] == "rds-not-publicly-accessible")
    assert row["level"] == "mandatory" and row["severity"] == "critical" and row["urn"].endswith("::db")
    console = Console(record=True, width=250)
    console.print(pr.render_table(report))
    text = console.export_text()
    assert (
        "rds-not-publicly-accessible" in text and "FAILED" in text and "aws:rds/instance:Instance::db" in text
    )


def test_pack_is_loaded_by_path_once():
    assert pr.load_pack() is pr.load_pack(Path(pr.REPO_ROOT) / "policies")
    assert len(pr.load_pack().policies) >= 28
    with pytest.raises(FileNotFoundError):
        pr.load_pack(BROKEN)
