"""A deliberately broken platform: every resource here carries one classic mistake.

Why it exists: the policy tests run it through the offline runner (exactly like `conveyor policy
check --program`) and expect each mistake to be caught by rule ID. Never deploy it.
"""

import json

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

config = pulumi.Config()

# A public bucket: public-read ACL, a public access block that blocks nothing, no encryption.
bucket = aws.s3.Bucket("public-bucket", bucket="broken-public-artifacts", acl="public-read")
aws.s3.BucketPublicAccessBlock(
    "public-bucket-pab",
    bucket=bucket.id,
    block_public_acls=False,
    block_public_policy=False,
    ignore_public_acls=False,
    restrict_public_buckets=False,
)

# A public database: reachable from the internet, unencrypted, no backups kept.
aws.rds.Instance(
    "public-db",
    engine="postgres",
    instance_class="db.t4g.micro",
    allocated_storage=20,
    username="conveyor",
    password=pulumi.Output.secret("hunter2-but-longer"),
    publicly_accessible=config.get_bool("publicDb") is not False,
    storage_encrypted=True,
    backup_retention_period=7,
    iam_database_authentication_enabled=True,
    skip_final_snapshot=True,
)

# An EKS API endpoint open to the whole internet.
role = aws.iam.Role(
    "cluster-role",
    assume_role_policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "eks.amazonaws.com"}}
            ],
        }
    ),
)
aws.eks.Cluster(
    "open-cluster",
    role_arn=role.arn,
    vpc_config={"subnet_ids": ["subnet-a", "subnet-b"], "public_access_cidrs": ["0.0.0.0/0"]},
    encryption_config={
        "provider": {"key_arn": "arn:aws:kms:us-east-1:123456789012:key/k"},
        "resources": ["secrets"],
    },
    enabled_cluster_log_types=["audit"],
)

# A privileged pod.
k8s.core.v1.Pod(
    "privileged-pod",
    metadata={"name": "debug", "namespace": "default"},
    spec={
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": "shell",
                "image": "busybox:1.36",
                "securityContext": {
                    "privileged": True,
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"]},
                },
                "resources": {
                    "requests": {"cpu": "10m", "memory": "16Mi"},
                    "limits": {"cpu": "100m", "memory": "64Mi"},
                },
            }
        ],
    },
)
