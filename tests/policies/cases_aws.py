"""Violating and compliant fixtures for the S3, RDS, EKS and IAM rules (provider type tokens, camelCase props)."""

from __future__ import annotations

from aws_builders import (
    ALL_FLAGS,
    ATTACH,
    BUCKET,
    BUCKET_POLICY,
    BUCKET_V2,
    EC2_TRUST,
    EKS,
    EKS_GOOD,
    IAM_POLICY,
    KMS_RULES,
    PAB,
    RDS,
    RDS_CLUSTER,
    RDS_GOOD,
    ROLE,
    SSE,
    TLS_POLICY,
    TRUST_NO_SUB,
    TRUST_OK,
    TRUST_WILDCARD_SUB,
    VERSIONING,
    bucket_with,
    doc,
)
from policy_harness import Case, Res, StackCase

from conveyor.platform.mocks import UNKNOWN

CASES: list[Case] = [
    # s3-public-access-block-complete
    Case("s3-public-access-block-complete", PAB, {"bucket": "art", **ALL_FLAGS}, False),
    Case(
        "s3-public-access-block-complete",
        PAB,
        {"bucket": "art", "blockPublicAcls": True},
        True,
        says="restrictPublicBuckets",
    ),
    # s3-no-public-acl
    Case("s3-no-public-acl", BUCKET, {"bucket": "art", "acl": "private"}, False),
    Case("s3-no-public-acl", BUCKET, {"bucket": "art", "acl": "public-read"}, True, says="public-read"),
    Case(
        "s3-no-public-acl",
        "aws:s3/bucketAclV2:BucketAclV2",
        {
            "bucket": "art",
            "accessControlPolicy": {
                "owner": {"id": "o"},
                "grants": [
                    {
                        "permission": "READ",
                        "grantee": {
                            "type": "Group",
                            "uri": "http://acs.amazonaws.com/groups/global/AllUsers",
                        },
                    }
                ],
            },
        },
        True,
        says="AllUsers",
    ),
    # rds-storage-encrypted
    Case("rds-storage-encrypted", RDS, RDS_GOOD, False),
    Case("rds-storage-encrypted", RDS, {**RDS_GOOD, "storageEncrypted": None}, True, says="storageEncrypted"),
    Case("rds-storage-encrypted", RDS_CLUSTER, {"engine": "aurora-postgresql"}, True, says="unencrypted"),
    # rds-not-publicly-accessible
    Case("rds-not-publicly-accessible", RDS, {"engine": "postgres"}, False),
    Case("rds-not-publicly-accessible", RDS, {**RDS_GOOD, "publiclyAccessible": True}, True, says="public"),
    # rds-backup-retention
    Case("rds-backup-retention", RDS, {"backupRetentionPeriod": 7}, False),
    Case("rds-backup-retention", RDS, {}, True, says="1 day"),
    Case(
        "rds-backup-retention", RDS, {"backupRetentionPeriod": 7}, True, stack="prod-aws", says="at least 14"
    ),
    Case(
        "rds-backup-retention", RDS, {"backupRetentionPeriod": 3}, False, config={"minimumRetentionDays": 3}
    ),
    Case("rds-backup-retention", RDS, {"backupRetentionPeriod": 14}, False, stack="prod-aws"),
    # rds-deletion-protection-prod
    Case("rds-deletion-protection-prod", RDS, {"deletionProtection": False}, False, stack="dev-aws"),
    Case("rds-deletion-protection-prod", RDS, {"deletionProtection": True}, False, stack="prod-aws"),
    Case("rds-deletion-protection-prod", RDS, {}, True, stack="prod-aws", says="production"),
    Case(
        "rds-deletion-protection-prod",
        RDS,
        {},
        True,
        stack="live-eu",
        says="production",
        config={"productionStackPattern": "^live"},
    ),
    # rds-iam-authentication
    Case("rds-iam-authentication", RDS, RDS_GOOD, False),
    Case(
        "rds-iam-authentication",
        RDS,
        {"storageEncrypted": True},
        True,
        says="iamDatabaseAuthenticationEnabled",
    ),
    # rds-multi-az-prod (advisory)
    Case("rds-multi-az-prod", RDS, {"multiAz": True}, False, stack="prod-aws"),
    Case("rds-multi-az-prod", RDS, {}, False, stack="staging-aws"),
    Case("rds-multi-az-prod", RDS, {"multiAz": False}, True, stack="prod-aws", says="multiAz"),
    # eks-endpoint-not-public
    Case("eks-endpoint-not-public", EKS, EKS_GOOD, False),
    Case(
        "eks-endpoint-not-public",
        EKS,
        {"vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}},
        False,
    ),
    Case(
        "eks-endpoint-not-public",
        EKS,
        {"vpcConfig": {"subnetIds": ["a"]}},
        True,
        says="default publicAccessCidrs",
    ),
    Case(
        "eks-endpoint-not-public",
        EKS,
        {"vpcConfig": {"publicAccessCidrs": ["10.0.0.0/8", "0.0.0.0/0"]}},
        True,
        says="0.0.0.0/0",
    ),
    # eks-secrets-encryption
    Case("eks-secrets-encryption", EKS, EKS_GOOD, False),
    Case("eks-secrets-encryption", EKS, {"vpcConfig": {}}, True, says="secrets"),
    Case(
        "eks-secrets-encryption", EKS, {"encryptionConfig": {"resources": ["secrets"]}}, True, says="keyArn"
    ),
    # eks-audit-logs
    Case("eks-audit-logs", EKS, EKS_GOOD, False),
    Case("eks-audit-logs", EKS, {"enabledClusterLogTypes": ["api"]}, True, says="audit"),
    # iam-irsa-trust-scoped
    Case("iam-irsa-trust-scoped", ROLE, {"assumeRolePolicy": TRUST_OK}, False),
    Case("iam-irsa-trust-scoped", ROLE, {"assumeRolePolicy": EC2_TRUST}, False),
    Case("iam-irsa-trust-scoped", ROLE, {"assumeRolePolicy": TRUST_NO_SUB}, True, says=":sub"),
    Case(
        "iam-irsa-trust-scoped",
        ROLE,
        {"assumeRolePolicy": TRUST_WILDCARD_SUB},
        True,
        says="system:serviceaccount:*",
    ),
    # iam-no-admin-grants
    Case(
        "iam-no-admin-grants",
        IAM_POLICY,
        {
            "policy": doc(
                {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::art/*"},
                {"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"},
            )
        },
        False,
    ),
    Case(
        "iam-no-admin-grants",
        IAM_POLICY,
        {"policy": doc({"Effect": "Allow", "Action": "*", "Resource": "*"})},
        True,
        says="Action '*'",
    ),
    Case(
        "iam-no-admin-grants",
        IAM_POLICY,
        {"policy": doc({"Effect": "Allow", "Action": "iam:*", "Resource": "*"})},
        True,
        says="iam:*",
    ),
    Case(
        "iam-no-admin-grants",
        ATTACH,
        {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"},
        False,
    ),
    Case(
        "iam-no-admin-grants",
        ATTACH,
        {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
        True,
        says="AdministratorAccess",
    ),
    Case(
        "iam-no-admin-grants",
        ROLE,
        {
            "assumeRolePolicy": EC2_TRUST,
            "inlinePolicies": [
                {"name": "boom", "policy": doc({"Effect": "Allow", "Action": "*:*", "Resource": "*"})}
            ],
        },
        True,
        says="boom",
    ),
]

STACK_CASES: list[StackCase] = [
    # s3-bucket-has-public-access-block
    StackCase(
        "s3-bucket-has-public-access-block",
        bucket_with(Res(PAB, "art-pab", {"bucket": "art", **ALL_FLAGS})),
        (),
    ),
    StackCase(
        "s3-bucket-has-public-access-block",
        [
            *bucket_with(Res(PAB, "art-pab", {"bucket": "art", **ALL_FLAGS})),
            Res(BUCKET_V2, "logs", {"bucket": "logs", "id": "logs"}),
        ],
        ("logs",),
        says="no BucketPublicAccessBlock",
    ),
    StackCase(
        "s3-bucket-has-public-access-block",
        bucket_with(Res(PAB, "art-pab", {"bucket": "art", "blockPublicAcls": True})),
        ("art",),
        says="all four",
    ),
    # linked only through the dependency graph (the id is unknown during a real preview)
    StackCase(
        "s3-bucket-has-public-access-block",
        bucket_with(Res(PAB, "art-pab", {"bucket": "computed-later", **ALL_FLAGS}, deps=("art",))),
        (),
    ),
    # the bucket id is unknown (first preview): the dependency graph still links the block
    StackCase(
        "s3-bucket-has-public-access-block",
        bucket_with(Res(PAB, "art-pab", {"bucket": UNKNOWN, **ALL_FLAGS}, deps=("art",))),
        (),
    ),
    # s3-sse-kms
    StackCase("s3-sse-kms", bucket_with(Res(SSE, "art-sse", {"bucket": "art", "rules": KMS_RULES})), ()),
    StackCase(
        "s3-sse-kms",
        bucket_with(
            bucket_props={
                "serverSideEncryptionConfiguration": {
                    "rule": {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}
                }
            }
        ),
        (),
    ),
    StackCase("s3-sse-kms", bucket_with(), ("art",), says="SSE-S3"),
    StackCase(
        "s3-sse-kms",
        bucket_with(
            Res(
                SSE,
                "art-sse",
                {
                    "bucket": "art",
                    "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}],
                },
            )
        ),
        ("art",),
        says="AES256",
    ),
    StackCase(
        "s3-sse-kms",
        [
            Res(
                BUCKET_V2,
                "old",
                {
                    "bucket": "old",
                    "serverSideEncryptionConfigurations": [
                        {"rules": [{"applyServerSideEncryptionByDefaults": [{"sseAlgorithm": "AES256"}]}]}
                    ],
                },
            )
        ],
        ("old",),
        says="aws:kms",
    ),
    # s3-versioning
    StackCase(
        "s3-versioning",
        bucket_with(
            Res(VERSIONING, "art-v", {"bucket": "art", "versioningConfiguration": {"status": "Enabled"}})
        ),
        (),
    ),
    StackCase(
        "s3-versioning", [Res(BUCKET_V2, "old", {"bucket": "old", "versionings": [{"enabled": True}]})], ()
    ),
    StackCase(
        "s3-versioning",
        bucket_with(
            Res(VERSIONING, "art-v", {"bucket": "art", "versioningConfiguration": {"status": "Suspended"}})
        ),
        ("art",),
        says="not versioned",
    ),
    # s3-tls-only
    StackCase(
        "s3-tls-only", bucket_with(Res(BUCKET_POLICY, "art-pol", {"bucket": "art", "policy": TLS_POLICY})), ()
    ),
    StackCase("s3-tls-only", bucket_with(bucket_props={"policy": TLS_POLICY}), ()),
    StackCase(
        "s3-tls-only",
        bucket_with(Res(BUCKET_POLICY, "other-pol", {"bucket": "other", "policy": TLS_POLICY})),
        ("art",),
        says="SecureTransport",
    ),
    StackCase(
        "s3-tls-only",
        bucket_with(
            Res(
                BUCKET_POLICY,
                "art-pol",
                {
                    "bucket": "art",
                    "policy": doc(
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "arn:aws:iam::1:role/r"},
                            "Action": "s3:GetObject",
                            "Resource": "arn:aws:s3:::art/*",
                        }
                    ),
                },
            )
        ),
        ("art",),
        says="non-TLS",
    ),
]
