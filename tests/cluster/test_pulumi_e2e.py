"""The platform program deployed by the real Pulumi engine onto the harness cluster.

One deploy of the ``local`` stack (with the air-gapped overrides of ``pulumi_project``) per
module; the tests then read the cluster through its API, re-run the engine (no changes, an exact
diff), compare URNs with the mocks, run the policy pack through the engine, and finally destroy.
They run in file order: the last one tears the stack down and checks nothing is left.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from components.argo import CONTROLLER_ENV
from components.metadata_db import DB_USER
from tests.cluster import argo_build, pins, pulumi_build
from tests.cluster.platform import REGISTRY, TRAINING, ensure_imported
from tests.cluster.pulumi_project import (
    ARGO_NAMESPACE,
    BUCKET,
    INSTANCE_ID,
    ROOT,
    STACK,
    Project,
    airgap_config,
)

# The first test carries the deploy (~2 min; more on a loaded machine); `make e2e` builds the engine first.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]

NAMESPACES = ("ml-team-a", ARGO_NAMESPACE, "monitoring", "gpu-operator")
SECRETS = {"database_password": "(the e2e Postgres role's, set by `deployed`)", "object_store_secret_access_key": "e2e-s3-secret"}
TIMINGS: dict[str, float] = {}


def _timed(name: str, fn):
    started = time.monotonic()
    out = fn()
    TIMINGS[name] = round(time.monotonic() - started, 1)
    return out


def _in_the_way(api) -> list[str]:
    """Objects a fresh deploy would create that already exist (another run left them)."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    core, ext = client.CoreV1Api(api), client.ApiextensionsV1Api(api)
    found = []
    for ns in NAMESPACES:
        try:
            core.read_namespace(ns)
            found.append(f"namespace/{ns}")
        except ApiException as exc:
            if exc.status != 404:
                raise
    found += [f"crd/{c.metadata.name}" for c in ext.list_custom_resource_definition().items
              if c.metadata.name.endswith(".monitoring.coreos.com")]  # fmt: skip (argoproj.io: the harness's)
    rbac, sched = client.RbacAuthorizationV1Api(api), client.SchedulingV1Api(api)
    found += [f"clusterrole/{r.metadata.name}" for r in rbac.list_cluster_role().items
              if r.metadata.name.startswith("argo-")]  # fmt: skip
    found += [f"clusterrolebinding/{r.metadata.name}" for r in rbac.list_cluster_role_binding().items
              if r.metadata.name.startswith("argo-")]  # fmt: skip
    found += [f"priorityclass/{c.metadata.name}" for c in sched.list_priority_class().items
              if c.metadata.name == "workflow-controller"]  # fmt: skip
    return found


@pytest.fixture(scope="module")
def deployed(cluster, platform, tmp_path_factory, pytestconfig):
    blocked = _in_the_way(cluster.api)
    if blocked:
        pytest.fail(f"the cluster already has objects this deploy creates: {blocked}", pytrace=False)
    engine = _timed("engine_build_or_cache", pulumi_build.engine)
    ensure_imported(pins.CONTROLLER_IMAGE, argo_build.controller_image(platform.argo))
    platform.s3.create_bucket(BUCKET)
    tmp = tmp_path_factory.mktemp("pulumi")
    overrides = airgap_config(cluster.gateway, platform.postgres.port, platform.s3.endpoint_url, REGISTRY)
    # The e2e Postgres already has the role and database the stack's external-database config names
    # (`conveyor`); the stack gets that role's password, so the controller's workflow archive and the
    # pods' metadata both use them for real.
    assert (platform.postgres.user, DB_USER) == ("conveyor", "conveyor")
    SECRETS["database_password"] = platform.postgres.password
    project = Project.create(engine, tmp, Path(cluster.kubeconfig), overrides, SECRETS)
    try:
        _timed("up", project.up)
        yield project
    finally:
        if not TIMINGS.get("destroy"):
            project.run("destroy", "--yes", "--skip-preview", check=False)
        # on the terminal, not captured: the README quotes these (cold build, up, second up, destroy)
        line = f"pulumi e2e timings (s): {json.dumps(TIMINGS)} builds: {json.dumps(pulumi_build.timings())}"
        with pytestconfig.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
            print(f"\n{line}", flush=True)


def test_the_platform_objects_exist_in_the_cluster(deployed, cluster):
    from kubernetes import client

    core, rbac = client.CoreV1Api(cluster.api), client.RbacAuthorizationV1Api(cluster.api)
    net, apps = client.NetworkingV1Api(cluster.api), client.AppsV1Api(cluster.api)
    custom = client.CustomObjectsApi(cluster.api)

    team = core.read_namespace("ml-team-a").metadata.labels
    assert team["pod-security.kubernetes.io/enforce"] == "restricted"
    assert core.read_namespace("monitoring").metadata.labels["pod-security.kubernetes.io/enforce"] == "privileged"
    quota = core.read_namespaced_resource_quota("conveyor-quota", "ml-team-a").spec.hard
    assert quota["requests.nvidia.com/gpu"] == "1"  # stacks/Pulumi.local.yaml: gpu_quota 1
    assert core.read_namespaced_limit_range("conveyor-limits", "ml-team-a").spec.limits
    policy = net.read_namespaced_network_policy("conveyor-default", "ml-team-a")
    assert set(policy.spec.policy_types) >= {"Ingress"}
    assert core.read_namespaced_service_account("conveyor-workflow", "ml-team-a")
    binding = rbac.read_namespaced_role_binding("conveyor-workflow-executor", "ml-team-a")
    assert [(s.kind, s.name) for s in binding.subjects] == [("ServiceAccount", "conveyor-workflow")]
    role = rbac.read_namespaced_role("conveyor-workflow-executor", "ml-team-a")
    assert any("workflowtaskresults" in r.resources for r in role.rules)

    import base64

    def secret(name, ns):
        return {k: base64.b64decode(v).decode() for k, v in core.read_namespaced_secret(name, ns).data.items()}

    url = secret("conveyor-metadata", "ml-team-a")["url"]
    port = deployed.outputs()["profile"]["metadata_url"].rsplit(":", 1)[1].split("/")[0]
    assert url == f"postgresql://conveyor:{SECRETS['database_password']}@{cluster.gateway}:{port}/conveyor?sslmode=disable"
    assert secret("conveyor-object-store", "ml-team-a") == {
        "AWS_ACCESS_KEY_ID": "conveyor", "AWS_SECRET_ACCESS_KEY": SECRETS["object_store_secret_access_key"]}
    assert secret("argo-postgres", ARGO_NAMESPACE)["password"] == SECRETS["database_password"]
    grafana = secret("grafana-admin", "monitoring")["admin-password"]
    assert len(grafana) == 24 and grafana.isalnum()  # GeneratedSecret, created by the dynamic provider

    # Argo from its upstream manifests; the controller config is the stack's, not upstream's empty one.
    repo = yaml.safe_load(core.read_namespaced_config_map("artifact-repositories", "ml-team-a").data["conveyor"])
    assert repo["s3"]["endpoint"].startswith(f"{cluster.gateway}:") and repo["s3"]["insecure"] is True
    ctl = core.read_namespaced_config_map("workflow-controller-configmap", ARGO_NAMESPACE).data
    assert yaml.safe_load(ctl["artifactRepository"]) == repo
    assert ctl["parallelism"] == "50" and yaml.safe_load(ctl["persistence"])["postgresql"]["host"] == cluster.gateway
    assert yaml.safe_load(ctl["workflowDefaults"])["spec"]["serviceAccountName"] == "conveyor-workflow"
    assert yaml.safe_load(ctl["executor"])["image"] == pins.ARGOEXEC_IMAGE and ctl["instanceID"] == INSTANCE_ID
    deployment = apps.read_namespaced_deployment("workflow-controller", ARGO_NAMESPACE)
    assert deployment.spec.template.spec.containers[0].image == pins.CONTROLLER_IMAGE
    env = {e.name: e.value for e in deployment.spec.template.spec.containers[0].env or []}
    assert env.items() >= CONTROLLER_ENV.items(), env  # a reclaimed pod's retry is not held back 10 min
    assert deployment.status.ready_replicas == 1  # the in-cluster controller runs (pulumi waited for it)
    assert custom.list_namespaced_custom_object("argoproj.io", "v1alpha1", "ml-team-a", "workflows") is not None

    # Monitoring: the Prometheus-operator CRDs from its module, our rules, monitors and dashboards.
    rules = custom.list_namespaced_custom_object("monitoring.coreos.com", "v1", "monitoring", "prometheusrules")
    assert {r["metadata"]["name"] for r in rules["items"]} >= {"conveyor-argo", "conveyor-gpu"}
    monitors = custom.list_namespaced_custom_object("monitoring.coreos.com", "v1", "monitoring", "servicemonitors")
    assert {m["metadata"]["name"] for m in monitors["items"]} == {"argo-workflows-controller", "nvidia-dcgm-exporter"}
    dashboards = core.list_namespaced_config_map("monitoring", label_selector="grafana_dashboard=1").items
    assert len(dashboards) == len(list((ROOT / "components/assets/monitoring/dashboards").glob("*.json")))


def test_a_second_up_reports_no_changes(deployed):
    proc = _timed("second_up", lambda: deployed.run("up", "--yes", "--skip-preview", "--expect-no-changes"))
    assert proc.returncode == 0


def _steps(preview: dict) -> dict[str, str]:
    return {s["urn"]: s["op"] for s in preview.get("steps", [])}


def test_a_config_change_previews_exactly_the_expected_diff(deployed):
    teams = [{"name": "team-a", "gpu_quota": 2}]
    deployed.run("config", "set", "conveyor:teams", json.dumps(teams))
    try:
        changed = {u: op for u, op in _steps(deployed.preview_json("--diff")).items() if op != "same"}
    finally:
        deployed.run("config", "set", "conveyor:teams", json.dumps([{"name": "team-a", "gpu_quota": 1}]))
    (quota,) = [u for u in deployed.urns() if u.endswith("$kubernetes:core/v1:ResourceQuota::team-team-a-quota")]
    assert changed == {quota: "update"}


def test_the_mocks_record_the_same_urns_as_the_engine(deployed):
    """The URN snapshot machinery (mocks) and the real engine agree for this stack config."""
    from conveyor.platform.mocks import run_program
    from conveyor.platform.snapshots import snapshot_lines

    mocked = {line.split()[0] for line in snapshot_lines(run_program(deployed.dir, STACK))}
    real = {u for u in deployed.urns() if "::pulumi:providers:" not in u or "cluster-k8s" in u}
    real.discard(f"urn:pulumi:{STACK}::conveyor::pulumi:pulumi:Stack::conveyor-{STACK}")
    assert real == mocked
    committed = {line.split()[0] for line in (ROOT / "tests/components/snapshots/local.txt").read_text().splitlines()}
    replaced = ("Release::", "seaweedfs", "store-", "metadata-", "gpu-operator")
    assert {u for u in committed if not any(r in u for r in replaced)} <= real


# `    - [mandatory] [severity: high]  k8s-run-as-non-root  (kubernetes:core/v1:Pod: broken-privileged)`
_VIOLATION = re.compile(r"^\s*- \[(?:mandatory|advisory)\](?: \[severity: \w+\])?\s+(\S+)\s+\(([^:]+:[^:]+:[^:]+): (.+)\)\s*$")


def _violations_real(project: Project) -> set[tuple[str, str]]:
    """(rule, resource name) of every violation `pulumi preview --policy-pack` prints."""
    proc = project.run("preview", "--policy-pack", str(project.dir / "policies"), check=False)
    found = {(m.group(1), m.group(3)) for m in map(_VIOLATION.match, proc.stdout.splitlines()) if m}
    assert found or proc.returncode == 0, f"preview failed without policy findings:\n{proc.stdout[-3000:]}{proc.stderr}"
    return found


def _violations_offline(project: Project) -> set[tuple[str, str]]:
    out = subprocess.run([str(ROOT / ".venv/bin/conveyor"), "policy", "check", "--program", str(project.dir), "--config",
                          str(project.dir / "stacks" / f"Pulumi.{STACK}.yaml"), "--json"],
                         capture_output=True, text=True, cwd=project.dir)  # fmt: skip
    report = next(iter(json.loads(out.stdout).values()))
    return {(v["rule"], v["urn"].rsplit("::", 1)[-1]) for v in report["violations"]}


BROKEN = '''
import pulumi_kubernetes as k8s
k8s.core.v1.Pod("broken-privileged", metadata={"name": "broken", "namespace": "ml-team-a"},
    spec={"containers": [{"name": "c", "image": "busybox", "securityContext": {"privileged": True}}]},
    opts=pulumi.ResourceOptions(provider=platform.cluster.provider))
k8s.core.v1.Namespace("broken-ns", metadata={"name": "ml-no-quota"}, opts=pulumi.ResourceOptions(provider=platform.cluster.provider))
k8s.core.v1.Service("broken-public", metadata={"name": "public", "namespace": "ml-team-a"},
    spec={"type": "LoadBalancer", "ports": [{"port": 80}]}, opts=pulumi.ResourceOptions(provider=platform.cluster.provider))
'''


def test_the_policy_pack_passes_on_the_deployed_stack(deployed):
    assert _violations_real(deployed) == _violations_offline(deployed) == set()


def test_the_policy_pack_finds_the_same_rules_through_the_engine_and_offline(deployed):
    main = deployed.dir / "__main__.py"
    original = main.read_text()
    main.write_text(original + BROKEN)
    try:
        real, offline = _violations_real(deployed), _violations_offline(deployed)
    finally:
        main.write_text(original)
    assert {rule for rule, _ in real} >= {"k8s-no-privileged-containers", "k8s-namespace-pod-security",
                                          "k8s-team-namespace-network-policy", "k8s-team-namespace-quota",
                                          "k8s-no-public-services"}  # fmt: skip
    assert real == offline


def test_conveyor_submit_with_the_stack_profile_runs_the_training_example(deployed, platform, tmp_path):
    """The two halves through the real contract: `conveyor submit --stack local` reads the profile
    from the engine's state and the stack's own controller, Secrets and RBAC run it in its team
    namespace (restricted Pod Security), with metadata in the stack's database and artifacts in
    its bucket. The client has the S3 keys only; the endpoint comes from the profile."""
    from conveyor.stores.metadata import open_metadata_store

    env = {k: v for k, v in deployed.env.items() if not k.startswith("AWS_")}
    env |= {"AWS_ACCESS_KEY_ID": "conveyor", "AWS_SECRET_ACCESS_KEY": SECRETS["object_store_secret_access_key"],
            "CONVEYOR_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    # The example's registry is a folder; the stack's task containers have a read-only root, so it goes under /tmp.
    argv = [str(ROOT / ".venv/bin/conveyor"), "submit", str(TRAINING), "--stack", STACK, "--watch", "--json",
            "-p", "registry_root=/tmp/registry"]
    proc = _timed("submit_training", lambda: subprocess.run(argv, cwd=deployed.dir, env=env, capture_output=True,
                                                            text=True, timeout=900))  # fmt: skip
    assert proc.returncode == 0, f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    data = json.loads(proc.stdout)
    assert data["status"] == "succeeded" and data["workflow"], data.get("error")
    from kubernetes import client

    wf = client.CustomObjectsApi(platform.cluster.api).get_namespaced_custom_object(
        "argoproj.io", "v1alpha1", "ml-team-a", "workflows", data["workflow"])
    assert wf["metadata"]["labels"]["workflows.argoproj.io/controller-instanceid"] == INSTANCE_ID
    assert wf["status"]["phase"] == "Succeeded"
    profile = deployed.outputs()["profile"]
    with open_metadata_store(profile["metadata_url"]) as store:
        assert store.get_run(data["run_id"]).status == "succeeded"
        tasks = store.list_tasks(data["run_id"])
        assert tasks and all(t.status == "succeeded" for t in tasks), [(t.task_id, t.status, t.error) for t in tasks]
        artifacts = [a for t in tasks for a in (t.outputs or {}).get("artifacts", {}).values()]
    assert artifacts and all(a["uri"].startswith(f"s3://{BUCKET}/") for a in artifacts), artifacts[:3]
    s3 = platform.s3.client()
    for a in artifacts:  # each recorded artifact is an object in the stack's bucket
        assert s3.head_object(Bucket=BUCKET, Key=a["uri"].split("/", 3)[3])["ContentLength"] >= 0


def test_destroy_leaves_nothing_in_the_cluster(deployed, cluster):
    _timed("destroy", lambda: deployed.run("destroy", "--yes", "--skip-preview"))
    from tests.cluster.kube import wait_for

    wait_for(lambda: not _in_the_way(cluster.api), 180, "the platform's namespaces and CRDs to be deleted")
    assert deployed.urns() == set()
