"""`ArgoWorkflows`: the workflow engine that runs compiled conveyor pipelines.

Why these settings: argo-server stays a ClusterIP service with `client` or `sso` auth (never
`server`, which would act with its own identity for anyone who reaches it). Controller, server and
executor run non-root. Every team namespace gets a default artifact repository pointing at this
stack's bucket with ambient cloud credentials (IRSA / Workload Identity; static keys only on an
existing cluster's S3-compatible store) and a least-privilege Role for its workflow service account.
Finished workflows are archived and large node statuses offloaded to the metadata Postgres, so a
big fan-out never hits the 1 MB object limit; podGC and parallelism bound what runs at once.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components import k8s as kx
from components.config import WORKFLOW_SERVICE_ACCOUNT, StackConfig, type_token

NAMESPACE = "argo"  # the default of `argo.namespace`
METADATA_SECRET = "conveyor-metadata"
# Existing clusters' S3-compatible keys; also the profile's `pod_env_secret` there.
OBJECT_STORE_SECRET = "conveyor-object-store"
# The upstream executor image; an air-gapped `sources.argo_workflows.images` entry for it names the mirror.
EXECUTOR_IMAGE = "quay.io/argoproj/argoexec"
CONTROLLER_CONFIGMAP = "workflow-controller-configmap"
ARTIFACT_CONFIGMAP = "artifact-repositories"
ARTIFACT_KEY = "conveyor"
KEY_FORMAT = "{{workflow.namespace}}/{{workflow.name}}/{{pod.name}}"
# The controller's environment (docs/environment-variables.md upstream), for spot GPUs. A pod that
# is evicted or reclaimed before the controller has processed it (it does so every 10 s) is gone
# before its end was seen: Argo then either re-creates it unchanged (same attempt, still asking for
# the spot capacity that just went away, Pending for good) or waits up to 10 minutes for its outputs
# report before it retries. The status-capture finalizer keeps each pod until its end is recorded,
# so a reclaim becomes a failed attempt and the retry goes to the on-demand fallback at once; the
# two durations bound the wait for a report that a killed pod never wrote.
CONTROLLER_ENV = {"ARGO_POD_STATUS_CAPTURE_FINALIZER": "true", "TASK_RESULT_TIMEOUT_DURATION": "30s",
                  "RECENTLY_DELETED_POD_DURATION": "30s"}
EXECUTOR_RULES = [
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "watch", "patch"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get", "watch"]},
    {"apiGroups": ["argoproj.io"], "resources": ["workflowtaskresults"], "verbs": ["create", "patch"]},
]


def controller_config(values: dict[str, Any], executor_image: str | None = None) -> dict[str, str]:
    """The `workflow-controller-configmap` data the argo-workflows chart renders from `values`.

    Used when Argo is installed from its upstream manifests (air-gapped), so both install paths
    configure the controller identically. Each key holds YAML text, as the controller expects.
    """
    ctl = values["controller"]
    config = {
        "artifactRepository": values["artifactRepository"],
        "parallelism": ctl["parallelism"],
        "namespaceParallelism": ctl["namespaceParallelism"],
        "workflowDefaults": ctl["workflowDefaults"],
        "persistence": ctl["persistence"],
        "metricsConfig": ctl["metricsConfig"],
        "executor": values["executor"],
        "mainContainer": values["mainContainer"],
    }
    instance = ctl.get("instanceID", {})
    if instance.get("enabled"):
        config["instanceID"] = instance["explicitID"]
    if executor_image:  # the chart's executor.image {registry, repository, tag}, as one reference
        config["executor"] = {**values["executor"], "image": executor_image}
    return {k: yaml.safe_dump(v, sort_keys=True) if isinstance(v, dict) else str(v) for k, v in config.items()}


def artifact_repository(cfg: StackConfig, store: Any, bucket: str, endpoint: str | None) -> dict[str, Any]:
    """The Argo artifact repository for `bucket` (plain dict, so it can be YAML-encoded)."""
    prefix = cfg.object_store.prefix
    if store.kind == "gcs":
        return {"archiveLogs": True, "gcs": {"bucket": bucket, "keyFormat": f"{prefix}/argo/{KEY_FORMAT}"}}
    s3: dict[str, Any] = {
        "bucket": bucket,
        "region": store.region,
        "keyFormat": f"{prefix}/argo/{KEY_FORMAT}",
    }
    if cfg.cloud == "aws":
        s3 |= {"endpoint": f"s3.{store.region}.amazonaws.com", "useSDKCreds": True,
               "encryptionOptions": {"enableEncryption": True}}  # fmt: skip
    else:
        host = (endpoint or "").split("://")[-1]
        s3 |= {"endpoint": host, "insecure": (endpoint or "").startswith("http://"),
               "accessKeySecret": {"name": OBJECT_STORE_SECRET, "key": "AWS_ACCESS_KEY_ID"},
               "secretKeySecret": {"name": OBJECT_STORE_SECRET, "key": "AWS_SECRET_ACCESS_KEY"}}  # fmt: skip
    return {"archiveLogs": True, "s3": s3}


class ArgoWorkflows(pulumi.ComponentResource):
    """Argo Workflows Helm release, per-team RBAC and artifact repositories, DB credentials."""

    def __init__(
        self,
        name: str,
        cfg: StackConfig,
        provider: k8s.Provider,
        store: Any,
        db: Any,
        team_namespaces: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(type_token("ArgoWorkflows"), name, None, opts)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=provider)
        namespace = cfg.argo.namespace
        ns = kx.namespace(f"{name}-ns", namespace, "restricted", k8s_opts)
        in_ns = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[ns])
        db_secret = k8s.core.v1.Secret(
            f"{name}-postgres",
            metadata={"name": "argo-postgres", "namespace": namespace},
            string_data={"username": db.username, "password": db.password},
            opts=in_ns,
        )
        endpoint = store.endpoint if store.endpoint is not None else pulumi.Output.from_input(None)
        repo = pulumi.Output.all(store.bucket, endpoint).apply(
            lambda a: artifact_repository(cfg, store, a[0], a[1])
        )
        after_teams = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=team_namespaces)
        for team in cfg.teams:
            tn = team.namespace
            k8s.core.v1.ConfigMap(
                f"{name}-artifacts-{team.name}",
                metadata={
                    "name": ARTIFACT_CONFIGMAP,
                    "namespace": tn,
                    "annotations": {"workflows.argoproj.io/default-artifact-repository": ARTIFACT_KEY},
                },
                data={ARTIFACT_KEY: repo.apply(lambda r: yaml.safe_dump(r, sort_keys=True))},
                opts=after_teams,
            )
            role = k8s.rbac.v1.Role(
                f"{name}-executor-{team.name}",
                metadata={"name": "conveyor-workflow-executor", "namespace": tn},
                rules=EXECUTOR_RULES,
                opts=after_teams,
            )
            k8s.rbac.v1.RoleBinding(
                f"{name}-executor-{team.name}",
                metadata={"name": "conveyor-workflow-executor", "namespace": tn},
                role_ref={
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "Role",
                    "name": "conveyor-workflow-executor",
                },
                subjects=[{"kind": "ServiceAccount", "name": WORKFLOW_SERVICE_ACCOUNT, "namespace": tn}],
                opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[role]),
            )
            # The metadata URL the pods read (the compiler's `metadata_secret`, conveyor-metadata/url).
            k8s.core.v1.Secret(
                f"{name}-metadata-{team.name}",
                metadata={"name": METADATA_SECRET, "namespace": tn},
                string_data={"url": db.url},
                opts=after_teams,
            )
            if store.access_key_id is not None:  # existing cluster: S3-compatible keys, never on clouds
                # One Secret, two readers: Argo's artifact repository names its keys, and every task
                # pod gets all of them as environment (the profile's `pod_env_secret`), which is
                # what boto3 in the runtime reads. The endpoint is not secret: the profile carries it.
                k8s.core.v1.Secret(
                    f"{name}-object-store-{team.name}",
                    metadata={"name": OBJECT_STORE_SECRET, "namespace": tn},
                    string_data={"AWS_ACCESS_KEY_ID": store.access_key_id,
                                 "AWS_SECRET_ACCESS_KEY": store.secret_access_key},
                    opts=after_teams,
                )  # fmt: skip
        values = pulumi.Output.all(repo, db.host).apply(lambda a: self._values(cfg, a[0], a[1], db))
        source = cfg.source("argo_workflows")
        after_db = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[db_secret, *team_namespaces])
        if source is not None and source.manifests:
            # Upstream's manifests: the controller reads the same settings the chart would render.
            k8s.core.v1.ConfigMap(f"{name}-controller-config", metadata={"name": CONTROLLER_CONFIGMAP,
                                  "namespace": namespace}, data=values.apply(lambda v: controller_config(v, source.images.get(EXECUTOR_IMAGE))),
                                  opts=in_ns)  # fmt: skip
        self.release = kx.install(
            f"{name}-workflows", cfg.versions.argo_workflows, source, namespace, values, after_db,
            release_name="argo-workflows", skip=frozenset({("ConfigMap", CONTROLLER_CONFIGMAP)}),
            env={"workflow-controller": CONTROLLER_ENV},
        )  # fmt: skip
        self.namespace = namespace
        self.server_url = f"https://argo-workflows-server.{namespace}.svc:2746"
        self.register_outputs({"namespace": namespace, "server_url": self.server_url})

    @staticmethod
    def _values(cfg: StackConfig, repo: dict[str, Any], db_host: str, db: Any) -> dict[str, Any]:
        sec = kx.secure("100m", "256Mi", "1", "1Gi")
        server: dict[str, Any] = {
            "enabled": True,
            "authModes": [cfg.argo.auth_mode],
            "serviceType": "ClusterIP",
            "ingress": {"enabled": False},
            "secure": True,
            "podSecurityContext": sec["podSecurityContext"],
            "securityContext": sec["securityContext"],
            "resources": sec["resources"],
        }
        if cfg.argo.auth_mode == "sso":
            server["sso"] = {"enabled": True, "issuer": cfg.argo.sso_issuer, "rbac": {"enabled": True},
                             "clientId": {"name": "argo-server-sso", "key": "client-id"},
                             "clientSecret": {"name": "argo-server-sso", "key": "client-secret"}}  # fmt: skip
        return {
            "crds": {"install": True, "keep": True},
            "singleNamespace": False,
            "workflow": {"serviceAccount": {"create": False}, "rbac": {"create": False}},
            "artifactRepository": repo,
            "controller": {
                "workflowNamespaces": [t.namespace for t in cfg.teams],
                **({"instanceID": {"enabled": True, "explicitID": cfg.argo.instance_id}} if cfg.argo.instance_id
                   else {}),  # fmt: skip
                "parallelism": cfg.argo.parallelism,
                "namespaceParallelism": cfg.argo.namespace_parallelism,
                "podSecurityContext": sec["podSecurityContext"],
                "securityContext": sec["securityContext"],
                "resources": kx.resources("250m", "512Mi", "2", "2Gi"),
                "metricsConfig": {"enabled": True},
                "extraEnv": [{"name": k, "value": v} for k, v in sorted(CONTROLLER_ENV.items())],
                "replicas": 2 if cfg.environment == "prod" else 1,
                "workflowDefaults": {
                    "spec": {
                        "serviceAccountName": WORKFLOW_SERVICE_ACCOUNT,
                        "podGC": {"strategy": cfg.argo.pod_gc_strategy, "deleteDelayDuration": "10m"},
                        "ttlStrategy": {"secondsAfterSuccess": 86400, "secondsAfterFailure": 604800},
                        "securityContext": kx.POD_SECURITY_CONTEXT,
                    }
                },
                "persistence": {
                    "archive": True,
                    "archiveTTL": cfg.argo.archive_ttl,
                    "nodeStatusOffLoad": True,
                    "postgresql": {
                        "host": db_host,
                        "port": db.port,
                        "database": db.database,
                        "tableName": "argo_workflows",
                        "userNameSecret": {"name": "argo-postgres", "key": "username"},
                        "passwordSecret": {"name": "argo-postgres", "key": "password"},
                        "ssl": True,
                        "sslMode": db.sslmode,
                    },
                },
            },
            "executor": {
                "securityContext": sec["securityContext"],
                "resources": kx.resources("50m", "64Mi", "500m", "256Mi"),
            },
            "mainContainer": {"securityContext": sec["securityContext"]},
            "server": server,
        }
