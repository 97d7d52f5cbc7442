"""`WorkflowIdentity`: the cloud identity that workflow pods use to reach the artifact bucket.

Why: no static keys on cloud targets. On AWS an IAM role trusts the cluster's OIDC provider for
exactly the `conveyor-workflow` service account of each team namespace (IRSA); on GCP a Google
service account lets exactly those Kubernetes service accounts impersonate it (Workload Identity).
Its permissions stop at this stack's bucket (and its KMS key). Nothing else in the cluster,
including Argo's own controller and server, is bound to it.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp

from components.config import WORKFLOW_SERVICE_ACCOUNT, StackConfig, type_token


def workflow_subjects(cfg: StackConfig) -> list[str]:
    """`system:serviceaccount:<ns>:<sa>` for every team's workflow service account."""
    return [f"system:serviceaccount:{t.namespace}:{WORKFLOW_SERVICE_ACCOUNT}" for t in cfg.teams]


class WorkflowIdentity(pulumi.ComponentResource):
    """Cloud role / service account for workflow pods; `annotations` go on the Kubernetes SAs."""

    annotations: pulumi.Output[dict[str, str]]

    def __init__(
        self,
        name: str,
        cfg: StackConfig,
        cluster: object,
        store: object,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(type_token("WorkflowIdentity"), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if cfg.cloud == "aws":
            self.annotations = self._aws(name, cfg, cluster.aws, store, child)
        elif cfg.cloud == "gcp":
            self.annotations = self._gcp(name, cfg, cluster.gcp, store, child)
        else:
            self.annotations = pulumi.Output.from_input({})
        self.register_outputs({"annotations": self.annotations})

    def _aws(self, name, cfg, eks, store, child) -> pulumi.Output[dict[str, str]]:
        trust = pulumi.Output.all(eks.oidc_provider_arn, eks.oidc_issuer).apply(
            lambda a: json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Federated": a[0]},
                            "Action": "sts:AssumeRoleWithWebIdentity",
                            "Condition": {
                                "StringEquals": {
                                    f"{a[1]}:sub": workflow_subjects(cfg),
                                    f"{a[1]}:aud": "sts.amazonaws.com",
                                }
                            },
                        }
                    ],
                }
            )
        )
        self.role = aws.iam.Role(
            f"{name}-workflow", assume_role_policy=trust, max_session_duration=43200, opts=child
        )
        policy = pulumi.Output.all(store.bucket_arn, store.key_arn).apply(
            lambda a: json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                            "Resource": a[0],
                        },
                        {
                            "Effect": "Allow",
                            "Action": [
                                "s3:GetObject",
                                "s3:PutObject",
                                "s3:DeleteObject",
                                "s3:AbortMultipartUpload",
                            ],
                            "Resource": f"{a[0]}/*",
                        },
                        {
                            "Effect": "Allow",
                            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                            "Resource": a[1],
                        },
                    ],
                }
            )
        )
        aws.iam.RolePolicy(f"{name}-workflow-artifacts", role=self.role.id, policy=policy, opts=child)
        return self.role.arn.apply(lambda arn: {"eks.amazonaws.com/role-arn": arn})

    def _gcp(self, name, cfg, gke, store, child) -> pulumi.Output[dict[str, str]]:
        self.account = gcp.serviceaccount.Account(
            f"{name}-workflow", project=gke.project, account_id=f"{cfg.name}-workflow",
            display_name="conveyor workflow pods (artifacts only)", opts=child,
        )  # fmt: skip
        gcp.storage.BucketIAMMember(
            f"{name}-workflow-artifacts", bucket=store.bucket, role="roles/storage.objectUser",
            member=self.account.member, opts=child,
        )  # fmt: skip
        for team in cfg.teams:
            gcp.serviceaccount.IAMMember(
                f"{name}-wi-{team.name}",
                service_account_id=self.account.name,
                role="roles/iam.workloadIdentityUser",
                member=f"serviceAccount:{gke.workload_pool}[{team.namespace}/{WORKFLOW_SERVICE_ACCOUNT}]",
                opts=child,
            )
        return self.account.email.apply(lambda e: {"iam.gke.io/gcp-service-account": e})
