"""S3: buckets are private, KMS-encrypted, versioned and reachable over TLS only.

Why: the artifact bucket holds every model and dataset the platform produces. S3's defaults are
"no public access block", SSE-S3 with an AWS-owned key, no versioning and plain-HTTP access, so
each protection must be declared. pulumi-aws v7 lets a program declare them inline on the bucket
(legacy `aws:s3/bucketV2:BucketV2` list-shaped fields, v7 `Bucket` object fields) or as separate
resources pointing at the bucket; the stack rules accept either and report on the bucket's URN.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ._core import (
    Context,
    Rule,
    StackContext,
    StackResource,
    as_list,
    get,
    is_seq,
    parse_document,
    resource_rule,
    stack_rule,
    statements,
    truthy,
)

RULES: list[Rule] = []

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
PAB_TYPE = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
SSE_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
VERSIONING_TYPES = (
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketVersioningV2:BucketVersioningV2",
)
POLICY_TYPE = "aws:s3/bucketPolicy:BucketPolicy"
PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
ACL_TYPES = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")
ALL_USERS_URIS = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)
_BUCKET_IDENTS = ("id", "bucket", "arn")


@resource_rule(
    RULES,
    id="s3-public-access-block-complete",
    description="An S3 public access block sets all four flags (the provider default for each is false).",
    severity="critical",
    types=(PAB_TYPE,),
    remediation="Set blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets to true.",
)
def public_access_block_complete(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    off = [flag for flag in PAB_FLAGS if not truthy(get(props, flag), default=False)]
    if off:
        yield f"public access block leaves {', '.join(off)} off; every flag must be true"


@resource_rule(
    RULES,
    id="s3-no-public-acl",
    description="No S3 bucket or bucket ACL grants access to everyone (public-read, AllUsers grants).",
    severity="critical",
    types=(*BUCKET_TYPES, *ACL_TYPES),
    remediation="Drop the canned ACL (or use 'private') and grant access through IAM/bucket policies.",
)
def no_public_acl(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    acl = get(props, "acl")
    if acl in PUBLIC_ACLS:
        yield f"canned ACL {acl!r} makes the bucket readable by everyone"
    grants = as_list(get(props, "grants")) + as_list(get(props, "accessControlPolicy", "grants"))
    for grant in grants:
        uri = get(grant, "uri") or get(grant, "grantee", "uri")
        if uri in ALL_USERS_URIS:
            yield f"grant to {uri.rsplit('/', 1)[-1]}"


def _buckets(resources: Sequence[StackResource]) -> list[StackResource]:
    return [r for r in resources if r.type in BUCKET_TYPES]


def _attached(
    resources: Sequence[StackResource], types: Sequence[str], bucket: StackResource
) -> list[StackResource]:
    pool = _buckets(resources)
    return [
        r
        for r in resources
        if r.type in types and any(b.urn == bucket.urn for b in r.linked("bucket", pool, _BUCKET_IDENTS))
    ]


@stack_rule(
    RULES,
    id="s3-bucket-has-public-access-block",
    description="Every S3 bucket has its own BucketPublicAccessBlock with all four flags on.",
    severity="critical",
    remediation="Declare aws.s3.BucketPublicAccessBlock(bucket=bucket.id, ...all four flags True).",
)
def every_bucket_has_public_access_block(
    resources: Sequence[StackResource], ctx: StackContext
) -> Iterator[tuple[str, str]]:
    for bucket in _buckets(resources):
        blocks = _attached(resources, (PAB_TYPE,), bucket)
        if not blocks:
            yield bucket.urn, f"bucket {bucket.name} has no BucketPublicAccessBlock"
        elif not any(all(truthy(get(b.props, f), default=False) for f in PAB_FLAGS) for b in blocks):
            yield bucket.urn, f"bucket {bucket.name}: its public access block does not set all four flags"


def _inline_sse_algorithms(props: Mapping[str, Any]) -> list[str]:
    """Algorithms from either inline shape: v7 `serverSideEncryptionConfiguration.rule` or the
    BucketV2 list `serverSideEncryptionConfigurations[].rules[].applyServerSideEncryptionByDefaults[]`."""
    found = []
    rule = get(props, "serverSideEncryptionConfiguration", "rule")
    if rule is not None:
        found.append(get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm"))
    for conf in as_list(get(props, "serverSideEncryptionConfigurations")):
        for r in as_list(get(conf, "rules")):
            for d in as_list(get(r, "applyServerSideEncryptionByDefaults")):
                found.append(get(d, "sseAlgorithm"))
    return [a for a in found if a]


def _resource_sse_algorithms(props: Mapping[str, Any]) -> list[str]:
    found = []
    for r in as_list(get(props, "rules")):
        default = get(r, "applyServerSideEncryptionByDefault")
        if is_seq(default):  # tolerate the list-shaped legacy schema
            default = default[0] if default else None
        found.append(get(default, "sseAlgorithm") if default is not None else None)
    return [a for a in found if a]


@stack_rule(
    RULES,
    id="s3-sse-kms",
    description="Every S3 bucket encrypts objects with SSE-KMS (the default is SSE-S3 with an AWS-owned key).",
    severity="high",
    remediation="Declare aws.s3.BucketServerSideEncryptionConfiguration with sse_algorithm='aws:kms' and a KMS key.",
)
def every_bucket_sse_kms(resources: Sequence[StackResource], ctx: StackContext) -> Iterator[tuple[str, str]]:
    for bucket in _buckets(resources):
        algorithms = _inline_sse_algorithms(bucket.props)
        for conf in _attached(resources, SSE_TYPES, bucket):
            algorithms += _resource_sse_algorithms(conf.props)
        if not algorithms:
            yield bucket.urn, f"bucket {bucket.name} declares no encryption; S3 falls back to SSE-S3 (AES256)"
        elif not all(a in KMS_ALGORITHMS for a in algorithms):
            yield bucket.urn, f"bucket {bucket.name} uses {sorted(set(algorithms))}; use aws:kms"


def _versioning_enabled(bucket: StackResource, configs: Sequence[StackResource]) -> bool:
    if truthy(get(bucket.props, "versioning", "enabled"), default=False):
        return True
    if any(truthy(get(v, "enabled"), default=False) for v in as_list(get(bucket.props, "versionings"))):
        return True
    return any(get(c.props, "versioningConfiguration", "status") == "Enabled" for c in configs)


@stack_rule(
    RULES,
    id="s3-versioning",
    description="Every S3 bucket has versioning enabled, so an overwritten or deleted artifact can be recovered.",
    severity="medium",
    remediation="Declare aws.s3.BucketVersioning with versioning_configuration status 'Enabled'.",
)
def every_bucket_versioned(
    resources: Sequence[StackResource], ctx: StackContext
) -> Iterator[tuple[str, str]]:
    for bucket in _buckets(resources):
        if not _versioning_enabled(bucket, _attached(resources, VERSIONING_TYPES, bucket)):
            yield bucket.urn, f"bucket {bucket.name} is not versioned"


def denies_insecure_transport(document: Any) -> bool:
    """True when some statement denies every request whose `aws:SecureTransport` is false."""
    for stmt in statements(parse_document(document)):
        if stmt.get("Effect") != "Deny":
            continue
        condition = stmt.get("Condition") or {}
        bool_cond = condition.get("Bool") if isinstance(condition, Mapping) else None
        value = bool_cond.get("aws:SecureTransport") if isinstance(bool_cond, Mapping) else None
        if value is None or str(as_list(value)[0]).lower() != "false":
            continue
        actions = [str(a) for a in as_list(stmt.get("Action"))]
        principal = stmt.get("Principal")
        everyone = principal == "*" or (
            isinstance(principal, Mapping) and "*" in as_list(principal.get("AWS"))
        )
        if everyone and any(a in ("s3:*", "*") for a in actions):
            return True
    return False


@stack_rule(
    RULES,
    id="s3-tls-only",
    description="Every S3 bucket policy denies requests made without TLS (aws:SecureTransport=false).",
    severity="high",
    remediation="Attach a BucketPolicy with a Deny on s3:* for Principal '*' when aws:SecureTransport is false.",
)
def every_bucket_tls_only(resources: Sequence[StackResource], ctx: StackContext) -> Iterator[tuple[str, str]]:
    for bucket in _buckets(resources):
        documents = [get(bucket.props, "policy")] + [
            get(p.props, "policy") for p in _attached(resources, (POLICY_TYPE,), bucket)
        ]
        if not any(denies_insecure_transport(d) for d in documents if d is not None):
            yield (
                bucket.urn,
                f"bucket {bucket.name} has no policy denying non-TLS (aws:SecureTransport=false) access",
            )
