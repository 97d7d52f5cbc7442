"""Every stack file, recorded under mocks: resources, GPU pools, bucket, DB, Argo, identity, profile."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from components.config import TYPE_PREFIX, WORKFLOW_SERVICE_ACCOUNT
from conveyor.platform.mocks import RecordedProgram, Secret, unwrap

PROFILE_EXAMPLE = (
    json.loads((Path(__file__).resolve().parents[3] / "shared" / "profile.example.json").read_text())
    if (Path(__file__).resolve().parents[3] / "shared" / "profile.example.json").exists()
    else None
)
PROFILE_KEYS = {"cloud", "region", "environment", "kubeconfig", "namespace", "service_account", "artifact_root",
                "metadata_url", "pushgateway_url", "gpu_pools"}  # fmt: skip
POOL_KEYS = {"name", "labels", "taints", "accelerator", "capacity", "fallback"}


def cloud(r: RecordedProgram) -> str:
    return r.config["conveyor:cloud"]


def env(r: RecordedProgram) -> str:
    return r.config["conveyor:environment"]


def one(r: RecordedProgram, type_: str):
    found = r.by_type(type_)
    assert len(found) == 1, f"expected one {type_}, got {[x.name for x in found]}"
    return found[0]


def k8s(r: RecordedProgram, kind: str):
    return [x for x in r.resources if x.type.startswith("kubernetes:") and x.type.endswith(f":{kind}")]


def test_expected_resources_exist(recorded):
    types = {x.type for x in recorded.resources}
    for comp in ("Platform", "Cluster", "ObjectStore", "WorkflowIdentity", "TeamNamespace", "MetadataDb",
                 "GpuPools", "ArgoWorkflows", "Monitoring"):  # fmt: skip
        assert f"{TYPE_PREFIX}{comp}" in types
    expected = {
        "aws": {"aws:eks/cluster:Cluster", "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "aws:s3/bucket:Bucket",
                "aws:rds/instance:Instance", "aws:sqs/queue:Queue", "aws:kms/key:Key"},
        "gcp": {"gcp:container/cluster:Cluster", "gcp:storage/bucket:Bucket", "gcp:sql/databaseInstance:DatabaseInstance",
                "gcp:container/nodePool:NodePool"},
        "existing": {"kubernetes:postgresql.cnpg.io/v1:Cluster"},
    }[cloud(recorded)]  # fmt: skip
    assert expected <= types
    assert "pulumi:providers:kubernetes" in types
    if cloud(recorded) == "existing":
        assert not any(t.startswith(("aws:", "gcp:")) for t in types), (
            "existing cluster must create nothing cloud-side"
        )
    charts = {x.inputs["chart"].split("/")[-1] for x in recorded.by_type("kubernetes:helm.sh/v3:Release")}
    assert {"argo-workflows", "kube-prometheus-stack", "prometheus-pushgateway", "gpu-operator"} <= charts


def test_components_parented_and_typed(recorded):
    urns = {x.urn for x in recorded.resources}
    for res in recorded.resources:
        if res.type == f"{TYPE_PREFIX}Platform":
            assert res.parent == recorded.stack_urn
        else:
            assert res.parent in urns, f"{res.urn} is not parented to a component"
        if not res.custom and not res.type.startswith("pulumi:providers:"):
            assert res.type.startswith(TYPE_PREFIX)
            assert res.outputs, f"component {res.urn} did not register outputs"


def test_gpu_pools_taints_labels_zero_min_and_fallbacks(recorded):
    pools = unwrap(recorded.outputs["profile"])["gpu_pools"]
    names = {p["name"] for p in pools}
    for p in pools:
        assert {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"} in p["taints"]
        assert p["labels"] == {"conveyor.dev/pool": p["name"], "conveyor.dev/capacity": p["capacity"]}
        if p["capacity"] == "spot":
            assert p["fallback"] in names
            assert next(q for q in pools if q["name"] == p["fallback"])["capacity"] == "on-demand"
    if cloud(recorded) == "aws":
        node_pools = recorded.by_type("kubernetes:karpenter.sh/v1:NodePool")
        assert {x.inputs["metadata"]["name"] for x in node_pools} == names
        for np in node_pools:
            tmpl = np.inputs["spec"]["template"]
            assert tmpl["spec"]["taints"] == [
                {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}
            ]
            req = {r["key"]: r["values"] for r in tmpl["spec"]["requirements"]}
            assert req["karpenter.sh/capacity-type"] == [tmpl["metadata"]["labels"]["conveyor.dev/capacity"]]
            assert "nvidia.com/gpu" in np.inputs["spec"]["limits"]  # Karpenter: no minimum, starts at zero
        queue = one(recorded, "aws:sqs/queue:Queue")
        rel = next(
            x
            for x in recorded.by_type("kubernetes:helm.sh/v3:Release")
            if x.inputs["chart"].endswith("karpenter")
        )
        assert rel.inputs["values"]["settings"]["interruptionQueue"] == queue.outputs["name"]
    elif cloud(recorded) == "gcp":
        gpu_pools = [
            x for x in recorded.by_type("gcp:container/nodePool:NodePool") if x.inputs.get("name") in names
        ]
        assert {x.inputs["name"] for x in gpu_pools} == names
        for np in gpu_pools:
            assert np.inputs["autoscaling"]["totalMinNodeCount"] == 0 and np.inputs["initialNodeCount"] == 0
            nc = np.inputs["nodeConfig"]
            assert nc["taints"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]
            assert nc["labels"]["conveyor.dev/pool"] == np.inputs["name"]
            assert nc["guestAccelerators"][0]["gpuDriverInstallationConfig"]["gpuDriverVersion"]
            assert nc["spot"] == (nc["labels"]["conveyor.dev/capacity"] == "spot")
    operator = next(
        x for x in recorded.by_type("kubernetes:helm.sh/v3:Release") if x.inputs["chart"] == "gpu-operator"
    )
    assert operator.inputs["values"]["dcgmExporter"]["enabled"] is True


def test_bucket_encrypted_versioned_private(recorded):
    c = cloud(recorded)
    if c == "aws":
        sse = one(
            recorded, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
        )
        rule = sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]
        assert rule["sseAlgorithm"] == "aws:kms" and rule["kmsMasterKeyId"].startswith("arn:aws:kms")
        ver = one(recorded, "aws:s3/bucketVersioning:BucketVersioning")
        assert ver.inputs["versioningConfiguration"]["status"] == "Enabled"
        pab = one(recorded, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
        assert all(
            pab[k]
            for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        )
        policy = json.loads(one(recorded, "aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
        assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        lifecycle = one(recorded, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs[
            "rules"
        ]
        assert any("noncurrentVersionExpiration" in r for r in lifecycle)
        bucket = one(recorded, "aws:s3/bucket:Bucket")
    elif c == "gcp":
        bucket = one(recorded, "gcp:storage/bucket:Bucket")
        i = bucket.inputs
        assert i["uniformBucketLevelAccess"] is True and i["publicAccessPrevention"] == "enforced"
        assert i["versioning"] == {"enabled": True} and i["encryption"]["defaultKmsKeyName"]
        assert any(r["condition"].get("daysSinceNoncurrentTime") for r in i["lifecycleRules"])
    else:
        rel = next(
            x for x in recorded.by_type("kubernetes:helm.sh/v3:Release") if x.inputs["chart"] == "seaweedfs"
        )
        assert rel.inputs["values"]["s3"]["enableAuth"] is True
        assert rel.inputs["values"]["allInOne"]["s3"]["createBuckets"][0]["versioning"] == "Enabled"
        return
    assert bucket.inputs["forceDestroy"] is (env(recorded) == "dev")
    assert bucket.options["protect"] is (env(recorded) == "prod")


def test_db_private_encrypted_backed_up(recorded):
    e, c = env(recorded), cloud(recorded)
    if c == "aws":
        db = one(recorded, "aws:rds/instance:Instance")
        i = db.inputs
        assert i["publiclyAccessible"] is False and i["storageEncrypted"] is True and i["kmsKeyId"]
        assert i["iamDatabaseAuthenticationEnabled"] and i["performanceInsightsEnabled"]
        assert isinstance(i["password"], Secret)
        ingress = one(recorded, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").inputs
        assert ingress["referencedSecurityGroupId"].endswith("-cluster") and "cidrIpv4" not in ingress
        retention, ha, protection = i["backupRetentionPeriod"], i["multiAz"], i["deletionProtection"]
    elif c == "gcp":
        db = one(recorded, "gcp:sql/databaseInstance:DatabaseInstance")
        s = db.inputs["settings"]
        assert s["ipConfiguration"]["ipv4Enabled"] is False and s["ipConfiguration"]["privateNetwork"]
        assert s["ipConfiguration"]["sslMode"] == "ENCRYPTED_ONLY"
        assert s["backupConfiguration"]["enabled"] and s["backupConfiguration"]["pointInTimeRecoveryEnabled"]
        retention = s["backupConfiguration"]["backupRetentionSettings"]["retainedBackups"]
        ha, protection = s["availabilityType"] == "REGIONAL", s["deletionProtectionEnabled"]
        assert isinstance(one(recorded, "gcp:sql/user:User").inputs["password"], Secret)
    else:
        db = one(recorded, "kubernetes:postgresql.cnpg.io/v1:Cluster")
        assert db.inputs["spec"]["bootstrap"]["initdb"]["secret"]["name"] == "conveyor-db-app"
        backup = db.inputs["spec"]["backup"]
        assert backup["barmanObjectStore"]["destinationPath"].startswith("s3://")
        assert one(recorded, "kubernetes:postgresql.cnpg.io/v1:ScheduledBackup").inputs["spec"]["cluster"]
        retention = int(backup["retentionPolicy"].removesuffix("d"))
        ha, protection = db.inputs["spec"]["instances"] > 1, db.options["protect"]
    minimum = {"dev": 7, "staging": 7, "prod": 14}[e]
    assert retention >= minimum
    if e == "prod":
        assert ha and protection and db.options["protect"]
    if e == "dev":
        assert not db.options["protect"]


def test_argo_artifact_repository_points_at_this_stack_bucket(recorded):
    bucket = unwrap(recorded.outputs["profile"])["artifact_root"].split("://")[1].split("/")[0]
    repos = [x for x in k8s(recorded, "ConfigMap") if x.inputs["metadata"]["name"] == "artifact-repositories"]
    assert len(repos) == len(json.loads(recorded.config["conveyor:teams"]))
    for cm in repos:
        repo = yaml.safe_load(cm.inputs["data"]["conveyor"])
        store = repo.get("s3") or repo.get("gcs")
        assert store["bucket"] == bucket
        if cloud(recorded) != "existing":
            assert "accessKeySecret" not in store and "secretKeySecret" not in store
    values = next(x for x in recorded.by_type("kubernetes:helm.sh/v3:Release")
                  if x.inputs["chart"] == "argo-workflows").inputs["values"]  # fmt: skip
    assert (values["artifactRepository"].get("s3") or values["artifactRepository"].get("gcs"))[
        "bucket"
    ] == bucket
    assert (
        values["server"]["authModes"] in (["client"], ["sso"])
        and values["server"]["serviceType"] == "ClusterIP"
    )
    persistence = values["controller"]["persistence"]
    assert persistence["archive"] and persistence["nodeStatusOffLoad"]
    assert (
        values["controller"]["parallelism"] > 0 and values["controller"]["workflowDefaults"]["spec"]["podGC"]
    )
    assert values["executor"]["securityContext"]["runAsNonRoot"] is True
    assert values["controller"]["securityContext"]["runAsNonRoot"] is True


def test_cloud_identity_bound_only_to_workflow_service_accounts(recorded):
    teams = [t["name"] for t in json.loads(recorded.config["conveyor:teams"])]
    wanted = sorted(f"system:serviceaccount:ml-{t}:{WORKFLOW_SERVICE_ACCOUNT}" for t in teams)
    if cloud(recorded) == "aws":
        role = recorded.get("aws:iam/role:Role", "identity-workflow")
        trust = json.loads(role.inputs["assumeRolePolicy"])
        (stmt,) = trust["Statement"]
        subs = next(v for k, v in stmt["Condition"]["StringEquals"].items() if k.endswith(":sub"))
        assert sorted(subs) == wanted
        sas = [x for x in k8s(recorded, "ServiceAccount")
               if "eks.amazonaws.com/role-arn" in (x.inputs["metadata"].get("annotations") or {})]  # fmt: skip
        assert {x.inputs["metadata"]["name"] for x in sas} == {WORKFLOW_SERVICE_ACCOUNT}
    elif cloud(recorded) == "gcp":
        members = sorted(
            x.inputs["member"] for x in recorded.by_type("gcp:serviceaccount/iAMMember:IAMMember")
        )
        assert members == sorted(f"serviceAccount:conveyor-ml-{env(recorded)}.svc.id.goog[ml-{t}/{WORKFLOW_SERVICE_ACCOUNT}]"
                                 for t in teams)  # fmt: skip
    else:
        assert not any(x.inputs["metadata"].get("annotations") for x in k8s(recorded, "ServiceAccount"))


def test_team_namespaces_quota_limits_netpol_psa(recorded):
    for ns in k8s(recorded, "Namespace"):
        labels = ns.inputs["metadata"]["labels"]
        if ns.inputs["metadata"]["name"].startswith("ml-"):
            assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    team_ns = {ns.inputs["metadata"]["name"] for ns in k8s(recorded, "Namespace")} & {
        f"ml-{t['name']}" for t in json.loads(recorded.config["conveyor:teams"])
    }
    for kind in ("ResourceQuota", "LimitRange", "NetworkPolicy", "ServiceAccount"):
        assert {x.inputs["metadata"]["namespace"] for x in k8s(recorded, kind)} >= team_ns, kind
    for q in k8s(recorded, "ResourceQuota"):
        assert "requests.nvidia.com/gpu" in q.inputs["spec"]["hard"]


def test_team_namespaces_get_the_metadata_secret_pods_read(recorded):
    """The compiler points pods at Secret conveyor-metadata/url; every team namespace must have it."""
    teams = {f"ml-{t['name']}" for t in json.loads(recorded.config["conveyor:teams"])}
    found = {x.inputs["metadata"]["namespace"]: x for x in k8s(recorded, "Secret")
             if x.inputs["metadata"]["name"] == "conveyor-metadata"}
    assert set(found) == teams
    expected = unwrap(recorded.outputs["profile"]["metadata_url"].value)
    for secret in found.values():
        data = secret.inputs["stringData"]
        if isinstance(data, Secret):  # the whole map is secret because the URL is
            data = unwrap(data.value)
            url = data["url"]
        else:
            assert isinstance(data["url"], Secret)
            url = unwrap(data["url"].value)
        assert unwrap(url.value if isinstance(url, Secret) else url) == expected


def _walk_plain(value, path="$"):
    if isinstance(value, Secret):
        return
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk_plain(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk_plain(v, f"{path}[{i}]")
    elif isinstance(value, str):
        yield path, value


def _secret_values(value):
    if isinstance(value, Secret):
        inner = unwrap(value.value)
        if isinstance(inner, str):
            yield inner
        else:
            yield from (s for _, s in _walk_plain(inner))
    elif isinstance(value, dict):
        for v in value.values():
            yield from _secret_values(v)
    elif isinstance(value, list):
        for v in value:
            yield from _secret_values(v)


def test_no_secret_in_plain_text(recorded):
    secrets = set()
    for r in recorded.resources:
        secrets |= set(_secret_values(r.inputs)) | set(_secret_values(r.outputs))
    secrets |= set(_secret_values(recorded.outputs))
    secrets = {s for s in secrets if len(s) >= 8 and s not in ("conveyor", "username")}
    for r in recorded.resources:
        if r.type.startswith("random:"):
            assert isinstance(r.outputs["result"], Secret)
    assert secrets, "expected at least the generated DB password to be a secret"
    for owner, blob in [(r.urn, {"in": r.inputs, "out": r.outputs}) for r in recorded.resources] + [
        ("stack outputs", recorded.outputs)
    ]:
        for path, text in _walk_plain(blob):
            leaked = [s for s in secrets if s in text]
            assert not leaked, f"secret in plain text at {owner} {path}"
    profile = recorded.outputs["profile"]
    assert isinstance(profile["kubeconfig"], Secret) and isinstance(profile["metadata_url"], Secret)


def test_profile_has_every_field(recorded):
    profile = unwrap(recorded.outputs["profile"])
    assert set(profile) >= PROFILE_KEYS
    if PROFILE_EXAMPLE is not None:
        assert set(PROFILE_EXAMPLE) <= set(profile)
    assert profile["cloud"] == cloud(recorded) and profile["environment"] == env(recorded)
    assert profile["artifact_root"].startswith(("s3://", "gs://"))
    assert profile["metadata_url"].startswith("postgresql://")
    assert profile["service_account"] == WORKFLOW_SERVICE_ACCOUNT and profile["namespace"].startswith("ml-")
    assert profile["pushgateway_url"].startswith("http://")
    for pool in profile["gpu_pools"]:
        assert set(pool) >= POOL_KEYS
    assert set(unwrap(recorded.outputs["team_profiles"])) == {
        t["name"] for t in json.loads(recorded.config["conveyor:teams"])
    }


def test_helm_releases_pinned_from_allowlisted_repos(recorded):
    from components.config import ALLOWED_CHART_REPOS, VERSIONS

    pins = {(p.chart, p.version) for p in VERSIONS.charts()}
    for rel in recorded.by_type("kubernetes:helm.sh/v3:Release"):
        i = rel.inputs
        repo = (i.get("repositoryOpts") or {}).get("repo") or i["chart"].rsplit("/", 1)[0]
        assert repo in ALLOWED_CHART_REPOS, rel.urn
        assert (i["chart"].rsplit("/", 1)[-1], i["version"]) in pins, rel.urn
        values = json.dumps(i.get("values", {}))
        assert '"authModes": ["server"]' not in values


def test_declared_pods_are_non_root_with_limits(recorded):
    """Pod templates and pod defaults we set ourselves (Argo workflow defaults, chart security values)."""
    argo = next(
        x for x in recorded.by_type("kubernetes:helm.sh/v3:Release") if x.inputs["chart"] == "argo-workflows"
    )
    v = argo.inputs["values"]
    pod = v["controller"]["workflowDefaults"]["spec"]["securityContext"]
    assert pod["runAsNonRoot"] and pod["seccompProfile"]["type"] == "RuntimeDefault"
    for part in (v["controller"], v["server"], v["executor"]):
        sc = part["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"]
        assert sc["seccompProfile"]["type"] == "RuntimeDefault"
        assert part["resources"]["requests"] and part["resources"]["limits"]
