"""GCS and Cloud SQL: private, versioned object storage and a private, TLS-only, recoverable DB.

Why: a GCS bucket defaults to "inherited" public access prevention, per-object ACLs and no
versioning; a Cloud SQL instance defaults to a public IPv4 address, accepts unencrypted
connections and keeps no point-in-time log. Each is the GCP twin of an AWS rule in this pack.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ._core import OPEN_CIDRS, PRODUCTION_PATTERN_SCHEMA, Context, Rule, as_list, get, resource_rule, truthy

RULES: list[Rule] = []

GCS_BUCKET = "gcp:storage/bucket:Bucket"
GCS_IAM_TYPES = (
    "gcp:storage/bucketIAMMember:BucketIAMMember",
    "gcp:storage/bucketIAMBinding:BucketIAMBinding",
)
SQL_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
SSL_ONLY_MODES = ("ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED")


@resource_rule(
    RULES,
    id="gcs-public-access-prevention",
    description="GCS buckets enforce public access prevention and grant nothing to allUsers.",
    severity="critical",
    types=(GCS_BUCKET, *GCS_IAM_TYPES),
    remediation="Set public_access_prevention='enforced'; never bind allUsers/allAuthenticatedUsers.",
)
def public_access_prevention(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    if ctx.resource_type == GCS_BUCKET:
        value = get(props, "publicAccessPrevention", default="inherited")
        if value != "enforced":
            yield f"publicAccessPrevention is {value!r}; it must be 'enforced'"
        return
    members = [str(m) for m in as_list(get(props, "member")) + as_list(get(props, "members"))]
    public = [m for m in members if m in PUBLIC_MEMBERS]
    if public:
        yield f"grants {get(props, 'role')} to {', '.join(public)}"


@resource_rule(
    RULES,
    id="gcs-uniform-access",
    description="GCS buckets use uniform bucket-level access (IAM only, no per-object ACLs).",
    severity="high",
    types=(GCS_BUCKET,),
    remediation="Set uniform_bucket_level_access=True.",
)
def uniform_access(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    if not truthy(get(props, "uniformBucketLevelAccess"), default=False):
        yield "uniformBucketLevelAccess is not true; object ACLs could make objects public"


@resource_rule(
    RULES,
    id="gcs-versioning",
    description="GCS buckets keep object versions so overwritten artifacts can be recovered.",
    severity="medium",
    types=(GCS_BUCKET,),
    remediation="Set versioning={'enabled': True}.",
)
def versioning(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    if not truthy(get(props, "versioning", "enabled"), default=False):
        yield "versioning.enabled is not true"


@resource_rule(
    RULES,
    id="cloudsql-no-public-ip",
    description="Cloud SQL instances have no public IPv4 address (ipv4Enabled defaults to true).",
    severity="critical",
    types=(SQL_INSTANCE,),
    remediation="Set settings.ip_configuration.ipv4_enabled=False and private_network to the VPC.",
)
def no_public_ip(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    ip = get(props, "settings", "ipConfiguration", default={})
    if truthy(get(ip, "ipv4Enabled"), default=True):
        yield "settings.ipConfiguration.ipv4Enabled is not false; the instance gets a public IP"
    for net in as_list(get(ip, "authorizedNetworks")):
        if str(get(net, "value")) in OPEN_CIDRS:
            yield "settings.ipConfiguration.authorizedNetworks includes 0.0.0.0/0"


@resource_rule(
    RULES,
    id="cloudsql-ssl-required",
    description="Cloud SQL refuses unencrypted connections (sslMode ENCRYPTED_ONLY or stricter).",
    severity="high",
    types=(SQL_INSTANCE,),
    remediation="Set settings.ip_configuration.ssl_mode='ENCRYPTED_ONLY'.",
)
def ssl_required(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    ip = get(props, "settings", "ipConfiguration", default={})
    mode = get(ip, "sslMode")
    if mode in SSL_ONLY_MODES or (mode is None and truthy(get(ip, "requireSsl"), default=False)):
        return
    yield f"sslMode is {mode or 'unset (ALLOW_UNENCRYPTED_AND_ENCRYPTED)'}; require ENCRYPTED_ONLY"


@resource_rule(
    RULES,
    id="cloudsql-backups-pitr",
    description="Cloud SQL takes automated backups with point-in-time recovery.",
    severity="high",
    types=(SQL_INSTANCE,),
    remediation="Set settings.backup_configuration enabled=True and point_in_time_recovery_enabled=True.",
)
def backups_pitr(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    if get(props, "masterInstanceName"):
        return  # read replicas take no backups of their own
    backup = get(props, "settings", "backupConfiguration", default={})
    if not truthy(get(backup, "enabled"), default=False):
        yield "settings.backupConfiguration.enabled is not true"
    mysql = str(get(props, "databaseVersion", default="")).startswith("MYSQL")
    pitr_key = "binaryLogEnabled" if mysql else "pointInTimeRecoveryEnabled"
    if not truthy(get(backup, pitr_key), default=False):
        yield f"settings.backupConfiguration.{pitr_key} is not true; no point-in-time recovery"


@resource_rule(
    RULES,
    id="cloudsql-deletion-protection",
    description="Production Cloud SQL instances are protected from deletion by Pulumi and by the API.",
    severity="high",
    types=(SQL_INSTANCE,),
    config={"productionStackPattern": PRODUCTION_PATTERN_SCHEMA},
    remediation="Keep deletion_protection=True; in production also set settings.deletion_protection_enabled=True.",
)
def deletion_protection(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    if ctx.is_production():
        if not truthy(get(props, "deletionProtection"), default=True):
            yield "deletionProtection is false in production; pulumi destroy would drop the database"
        if not truthy(get(props, "settings", "deletionProtectionEnabled"), default=False):
            yield "settings.deletionProtectionEnabled is not true in production (console/API deletes)"
