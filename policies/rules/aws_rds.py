"""RDS: the metadata database is encrypted, private, backed up and (in production) hard to delete.

Why: the metadata DB is the platform's system of record. Every field below defaults to the unsafe
value when a program omits it (storage unencrypted, IAM auth off, deletion protection off, single
AZ, one day of backups), so a missing field is treated as that default.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ._core import PRODUCTION_PATTERN_SCHEMA, Context, Rule, get, resource_rule, truthy

RULES: list[Rule] = []

INSTANCE = "aws:rds/instance:Instance"
CLUSTER = "aws:rds/cluster:Cluster"
CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
AWS_DEFAULT_RETENTION_DAYS = 1


@resource_rule(
    RULES,
    id="rds-storage-encrypted",
    description="RDS instances and clusters encrypt storage at rest (storageEncrypted defaults to false).",
    severity="high",
    types=(INSTANCE, CLUSTER),
    remediation="Set storage_encrypted=True (and kms_key_id to a customer-managed key).",
)
def storage_encrypted(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    if get(props, "engineMode") == "serverless":
        return  # Aurora Serverless v1 is always encrypted
    if get(props, "replicateSourceDb") is not None and get(props, "storageEncrypted") is None:
        return  # a replica inherits its source's encryption
    if not truthy(get(props, "storageEncrypted"), default=False):
        yield "storageEncrypted is not true; the data would be stored unencrypted"


@resource_rule(
    RULES,
    id="rds-not-publicly-accessible",
    description="RDS instances are not publicly accessible from the internet.",
    severity="critical",
    types=(INSTANCE, CLUSTER_INSTANCE),
    remediation="Set publicly_accessible=False and place the DB in private subnets.",
)
def not_publicly_accessible(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    if truthy(get(props, "publiclyAccessible"), default=False):
        yield "publiclyAccessible is true; the database gets a public endpoint"


@resource_rule(
    RULES,
    id="rds-backup-retention",
    description="RDS automated backups are kept at least N days (more in production).",
    severity="high",
    types=(INSTANCE, CLUSTER),
    config={
        "minimumRetentionDays": {
            "type": "integer",
            "minimum": 1,
            "maximum": 35,
            "default": 7,
            "description": "Minimum backup retention in days for every stack.",
        },
        "productionMinimumRetentionDays": {
            "type": "integer",
            "minimum": 1,
            "maximum": 35,
            "default": 14,
            "description": "Minimum backup retention in production stacks.",
        },
        "productionStackPattern": PRODUCTION_PATTERN_SCHEMA,
    },
    remediation="Set backup_retention_period to at least the configured number of days.",
)
def backup_retention(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    if get(props, "replicateSourceDb") is not None:
        return  # replicas take no automated backups of their own
    days = float(get(props, "backupRetentionPeriod", default=AWS_DEFAULT_RETENTION_DAYS))
    key = "productionMinimumRetentionDays" if ctx.is_production() else "minimumRetentionDays"
    minimum = float(ctx.config[key])
    if days < minimum:
        where = "production" if ctx.is_production() else "this stack"
        yield f"backupRetentionPeriod is {days:g} day(s); {where} requires at least {minimum:g}"


@resource_rule(
    RULES,
    id="rds-deletion-protection-prod",
    description="Production RDS instances and clusters have deletion protection on.",
    severity="high",
    types=(INSTANCE, CLUSTER),
    config={"productionStackPattern": PRODUCTION_PATTERN_SCHEMA},
    remediation="Set deletion_protection=True in production stacks.",
)
def deletion_protection_prod(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    if ctx.is_production() and not truthy(get(props, "deletionProtection"), default=False):
        yield f"deletionProtection is not true in production stack {ctx.stack}"


@resource_rule(
    RULES,
    id="rds-iam-authentication",
    description="RDS instances and clusters enable IAM database authentication, so pods use IRSA, not passwords.",
    severity="medium",
    types=(INSTANCE, CLUSTER),
    remediation="Set iam_database_authentication_enabled=True.",
)
def iam_authentication(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    if not truthy(get(props, "iamDatabaseAuthenticationEnabled"), default=False):
        yield "iamDatabaseAuthenticationEnabled is not true"


@resource_rule(
    RULES,
    id="rds-multi-az-prod",
    description="Production RDS instances run Multi-AZ so one zone outage does not stop the platform.",
    severity="medium",
    level="advisory",
    types=(INSTANCE,),
    config={"productionStackPattern": PRODUCTION_PATTERN_SCHEMA},
    remediation="Set multi_az=True in production stacks.",
)
def multi_az_prod(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    if ctx.is_production() and not truthy(get(props, "multiAz"), default=False):
        yield f"multiAz is not true in production stack {ctx.stack}"
