"""`ObjectStore`: the artifact bucket behind `artifact_root` (S3, GCS, or S3-compatible in-cluster).

Why: pipeline artifacts are the team's results; the bucket is private, encrypted with a customer
key, versioned (an overwritten model can be recovered) and lifecycle-managed so old versions do
not cost forever. Prod protects it from `pulumi destroy`; dev lets it be force-destroyed.
On an existing cluster it is either an external S3-compatible endpoint with credentials from
config, or SeaweedFS installed in-cluster (MinIO's community images are no longer published).
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from components import k8s as kx
from components.config import StackConfig, type_token
from components.generated_secret import GeneratedSecret

IN_CLUSTER_NAMESPACE = "object-store"
IN_CLUSTER_BUCKET = "conveyor-artifacts"


class ObjectStore(pulumi.ComponentResource):
    """Exposes `kind` (s3|gcs), `bucket`, `artifact_root`, `endpoint` and, on existing clusters, keys."""

    def __init__(
        self,
        name: str,
        cfg: StackConfig,
        provider: k8s.Provider | None = None,
        secret_access_key: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(type_token("ObjectStore"), name, None, opts)
        self._child = pulumi.ResourceOptions(parent=self)
        self._data = pulumi.ResourceOptions(parent=self, protect=cfg.protect)
        self.endpoint: pulumi.Output[str] | None = None
        self.access_key_id: pulumi.Output[str] | None = None
        self.secret_access_key: pulumi.Output[str] | None = None
        self.key_arn: pulumi.Output[str] | None = None
        self.bucket_arn: pulumi.Output[str] | None = None
        if cfg.cloud == "aws":
            self.kind = "s3"
            self._s3(name, cfg)
        elif cfg.cloud == "gcp":
            self.kind = "gcs"
            self._gcs(name, cfg)
        else:
            self.kind = "s3"
            self._existing(name, cfg, provider, secret_access_key)
        scheme = "gs" if self.kind == "gcs" else "s3"
        self.artifact_root = self.bucket.apply(lambda b: f"{scheme}://{b}/{cfg.object_store.prefix}")
        self.register_outputs({"bucket": self.bucket, "artifact_root": self.artifact_root})

    def _s3(self, name: str, cfg: StackConfig) -> None:
        key = aws.kms.Key(f"{name}-artifacts", description="conveyor artifact bucket", enable_key_rotation=True,
                          deletion_window_in_days=30, opts=self._data)  # fmt: skip
        bucket = aws.s3.Bucket(
            f"{name}-artifacts",
            bucket=cfg.object_store.bucket,
            bucket_prefix=None if cfg.object_store.bucket else f"{cfg.name}-artifacts-",
            force_destroy=cfg.force_destroy,
            opts=self._data,
        )
        on_bucket = pulumi.ResourceOptions(parent=self, protect=cfg.protect, depends_on=[bucket])
        aws.s3.BucketOwnershipControls(f"{name}-artifacts", bucket=bucket.id,
                                       rule={"object_ownership": "BucketOwnerEnforced"}, opts=on_bucket)  # fmt: skip
        aws.s3.BucketPublicAccessBlock(
            f"{name}-artifacts", bucket=bucket.id, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=on_bucket,
        )  # fmt: skip
        aws.s3.BucketVersioning(f"{name}-artifacts", bucket=bucket.id,
                                versioning_configuration={"status": "Enabled"}, opts=on_bucket)  # fmt: skip
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-artifacts",
            bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms",
                                                                 "kms_master_key_id": key.arn},
                    "bucket_key_enabled": True}],
            opts=on_bucket,
        )  # fmt: skip
        rules = [
            {"id": "expire-noncurrent", "status": "Enabled", "filter": {},
             "noncurrent_version_expiration": {"noncurrent_days": cfg.object_store.noncurrent_expire_days}},
            {"id": "abort-multipart", "status": "Enabled", "filter": {},
             "abort_incomplete_multipart_upload": {"days_after_initiation": 7}},
        ]  # fmt: skip
        if cfg.object_store.transition_after_days:
            rules.append({"id": "transition-runs", "status": "Enabled",
                          "filter": {"prefix": f"{cfg.object_store.prefix}/"},
                          "transitions": [{"days": cfg.object_store.transition_after_days,
                                           "storage_class": "STANDARD_IA"}]})  # fmt: skip
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-artifacts", bucket=bucket.id, rules=rules, opts=on_bucket
        )
        tls_only = bucket.arn.apply(
            lambda arn: json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "DenyInsecureTransport",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [arn, f"{arn}/*"],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                }
            )
        )
        aws.s3.BucketPolicy(f"{name}-artifacts", bucket=bucket.id, policy=tls_only, opts=on_bucket)
        self.bucket = bucket.bucket
        self.bucket_arn = bucket.arn
        self.key_arn = key.arn
        self.region = cfg.region

    def _gcs(self, name: str, cfg: StackConfig) -> None:
        project = cfg.gcp_project
        agent = gcp.storage.get_project_service_account(project=project)
        ring = gcp.kms.KeyRing(f"{name}-artifacts", project=project, location=cfg.region, opts=self._child)
        key = gcp.kms.CryptoKey(
            f"{name}-artifacts", key_ring=ring.id, rotation_period="7776000s", opts=self._data
        )
        grant = gcp.kms.CryptoKeyIAMMember(
            f"{name}-artifacts-gcs", crypto_key_id=key.id, role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
            member=f"serviceAccount:{agent.email_address}", opts=self._child,
        )  # fmt: skip
        rules = [
            {"action": {"type": "Delete"},
             "condition": {"days_since_noncurrent_time": cfg.object_store.noncurrent_expire_days, "with_state": "ARCHIVED"}},
            {"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": 7}},
        ]  # fmt: skip
        if cfg.object_store.transition_after_days:
            rules.append({"action": {"type": "SetStorageClass", "storage_class": "NEARLINE"},
                          "condition": {"age": cfg.object_store.transition_after_days,
                                        "matches_prefixes": [f"{cfg.object_store.prefix}/"]}})  # fmt: skip
        bucket = gcp.storage.Bucket(
            f"{name}-artifacts",
            name=cfg.object_store.bucket or f"{project}-{cfg.name}-artifacts",
            project=project,
            location=cfg.region.upper(),
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning={"enabled": True},
            encryption={"default_kms_key_name": key.id},
            lifecycle_rules=rules,
            force_destroy=cfg.force_destroy,
            opts=pulumi.ResourceOptions(parent=self, protect=cfg.protect, depends_on=[grant]),
        )
        self.bucket = bucket.name
        self.region = cfg.region

    def _existing(self, name, cfg: StackConfig, provider, secret_access_key) -> None:
        self.region = "us-east-1"  # S3-compatible stores accept any region; SDKs need one
        if cfg.object_store.mode == "external":
            self.bucket = pulumi.Output.from_input(cfg.object_store.bucket or IN_CLUSTER_BUCKET)
            self.endpoint = pulumi.Output.from_input(cfg.object_store.endpoint or "")
            self.access_key_id = pulumi.Output.secret(cfg.object_store.access_key_id or "")
            self.secret_access_key = pulumi.Output.secret(secret_access_key or "")
            return
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=provider)
        ns = kx.namespace(f"{name}-ns", IN_CLUSTER_NAMESPACE, "restricted", k8s_opts)
        access = GeneratedSecret(f"{name}-access-key", length=20, opts=self._child
        )
        secret = GeneratedSecret(f"{name}-secret-key", length=40, opts=self._child)
        identities = pulumi.Output.all(access.result, secret.result).apply(
            lambda k: json.dumps({"identities": [{"name": "conveyor", "actions": ["Admin", "Read", "Write", "List"],
                                                  "credentials": [{"accessKey": k[0], "secretKey": k[1]}]}]})
        )  # fmt: skip
        in_ns = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[ns])
        cfg_secret = k8s.core.v1.Secret(
            f"{name}-s3-config",
            metadata={"name": "seaweedfs-s3-config", "namespace": IN_CLUSTER_NAMESPACE},
            string_data={"seaweedfs_s3_config": pulumi.Output.secret(identities)},
            opts=in_ns,
        )
        sec = kx.secure("100m", "256Mi", "2", "2Gi")
        values = {
            "master": {"enabled": False},
            "volume": {"enabled": False},
            "filer": {"enabled": False},
            "allInOne": {
                "enabled": True,
                "podSecurityContext": {"enabled": True, **sec["podSecurityContext"]},
                "containerSecurityContext": {
                    "enabled": True,
                    **sec["securityContext"],
                    "readOnlyRootFilesystem": False,
                },
                "resources": sec["resources"],
                "data": {"type": "persistentVolumeClaim", "size": cfg.object_store.size},
                "s3": {
                    "enabled": True,
                    "createBuckets": [{"name": IN_CLUSTER_BUCKET, "versioning": "Enabled"}],
                },
            },
            "s3": {"enableAuth": True, "existingConfigSecret": "seaweedfs-s3-config", "port": 8333},
        }
        kx.install(f"{name}-seaweedfs", cfg.versions.seaweedfs, cfg.source("seaweedfs"), IN_CLUSTER_NAMESPACE, values,
                   pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[cfg_secret], protect=cfg.protect),
                   release_name="seaweedfs")  # fmt: skip
        self.bucket = pulumi.Output.from_input(IN_CLUSTER_BUCKET)
        self.endpoint = pulumi.Output.from_input(f"http://seaweedfs-s3.{IN_CLUSTER_NAMESPACE}.svc:8333")
        self.access_key_id = access.result
        self.secret_access_key = secret.result
