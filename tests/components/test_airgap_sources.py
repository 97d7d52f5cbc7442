"""Air-gapped installs (`sources`), an external Postgres, and GeneratedSecret, under mocks.

The real-engine counterpart is tests/cluster/test_pulumi_e2e.py; these run in `make test`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from components import k8s as kx
from components.argo import CONTROLLER_ENV, controller_config
from components.config import ConfigError, StackConfig
from components.generated_secret import ALPHABET, _Provider, generate
from conveyor.platform.mocks import run_program, unwrap

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "workflow-controller"},
              "spec": {"template": {"spec": {"containers": [
                  {"name": "workflow-controller", "image": "quay.io/argoproj/workflow-controller:latest",
                   "env": [{"name": "KEPT", "value": "upstream"}]},
                  {"name": "d", "image": "localhost:5000/other"}]}}}}  # fmt: skip
CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
       "metadata": {"name": "workflows.argoproj.io"}, "spec": {}}  # fmt: skip
UPSTREAM_CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "workflow-controller-configmap"}}


@pytest.fixture
def manifests(tmp_path) -> Path:
    d = tmp_path / "manifests"
    d.mkdir()
    (d / "crd.yaml").write_text(yaml.safe_dump(CRD))
    (d / "controller.yaml").write_text(yaml.safe_dump_all([DEPLOYMENT, UPSTREAM_CM]))
    (d / "kustomization.yaml").write_text("resources: [crd.yaml]\n")
    return d


def local(**over):
    data = {"environment": "dev", "cloud": "existing", "teams": [{"name": "team-a"}]}
    return StackConfig.parse(data | over)


def test_a_source_is_exactly_one_kind():
    with pytest.raises(ConfigError, match=r"conveyor:sources\.argo_workflows: .*exactly one of chart, manifests, provided"):
        local(sources={"argo_workflows": {"chart": "/x.tgz", "provided": True}})
    with pytest.raises(ConfigError, match=r"exactly one .*got none"):
        local(sources={"argo_workflows": {"wait": False}})


def test_a_source_for_an_unknown_part_names_the_allowed_parts():
    with pytest.raises(ConfigError, match=r"sources\.argo: not a Helm-installed part; allowed: \[.*'argo_workflows'"):
        local(sources={"argo": {"provided": True}})


def test_an_external_database_needs_a_host():
    with pytest.raises(ConfigError, match=r"database\.host: None is not allowed with mode='external'"):
        local(database={"mode": "external"})


def test_manifests_land_in_the_part_namespace_with_mirrored_images(manifests):
    objs = kx.manifest_objects([str(manifests)], "argo", skip=frozenset({("ConfigMap", "workflow-controller-configmap")}),
                               wait=False, images={"quay.io/argoproj/workflow-controller": "mirror/wc:v4.0.5",
                                                   "localhost:5000/other": "mirror/other:1"})  # fmt: skip
    by_kind = {o["kind"]: o for o in objs}
    assert set(by_kind) == {"Deployment", "CustomResourceDefinition"}  # kustomization + skipped CM left out
    assert by_kind["Deployment"]["metadata"]["namespace"] == "argo"
    assert "namespace" not in by_kind["CustomResourceDefinition"]["metadata"]
    assert by_kind["Deployment"]["metadata"]["annotations"] == {"pulumi.com/skipAwait": "true"}
    images = [c["image"] for c in by_kind["Deployment"]["spec"]["template"]["spec"]["containers"]]
    assert images == ["mirror/wc:v4.0.5", "mirror/other:1"]
    pod = by_kind["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}  # hardened where unset
    assert all(set(c["resources"]) == {"requests", "limits"} for c in pod["containers"])


def test_hardening_keeps_what_upstream_set(tmp_path):
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {
        "securityContext": {"seccompProfile": {"type": "Localhost"}},
        "containers": [{"name": "c", "image": "x", "resources": {"limits": {"memory": "9Gi"}}}]}}}}  # fmt: skip
    (tmp_path / "d.yaml").write_text(yaml.safe_dump(dep))
    (obj,) = kx.manifest_objects([str(tmp_path / "d.yaml")], "ns")
    pod = obj["spec"]["template"]["spec"]
    assert pod["securityContext"]["seccompProfile"] == {"type": "Localhost"}
    assert pod["containers"][0]["resources"]["limits"] == {"memory": "9Gi", "cpu": "1"}


def test_a_missing_manifest_path_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"sources manifests: '.*nope' does not exist"):
        kx.manifest_objects([str(tmp_path / "nope")], "argo")


def test_argo_from_manifests_gets_the_stacks_controller_config(manifests):
    sources = {"argo_workflows": {"manifests": [str(manifests)]}, "pushgateway": {"provided": True}}
    rec = run_program(ROOT, "local", config_overrides={"conveyor:sources": json.dumps(sources)})
    types = {(r.type, r.name) for r in rec.resources}
    assert ("kubernetes:helm.sh/v3:Release", "argo-workflows") not in types
    assert ("kubernetes:helm.sh/v3:Release", "monitoring-pushgateway") not in types
    assert ("kubernetes:yaml:ConfigGroup", "argo-workflows") in types
    assert ("kubernetes:apps/v1:Deployment", "argo/workflow-controller") in types
    assert ("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition", "workflows.argoproj.io") in types
    cm = rec.get("kubernetes:core/v1:ConfigMap", "argo-controller-config")
    data = unwrap(cm.inputs["data"])
    assert yaml.safe_load(data["workflowDefaults"])["spec"]["serviceAccountName"] == "conveyor-workflow"
    assert data["parallelism"] == "50"
    dep = unwrap(rec.get("kubernetes:apps/v1:Deployment", "argo/workflow-controller").inputs)
    controller = dep["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in controller["env"]}
    assert env == {"KEPT": "upstream", **CONTROLLER_ENV}  # the chart's extraEnv, for manifests too


def test_the_chart_gets_the_controller_environment():
    rec = run_program(ROOT, "local")
    release = unwrap(rec.get("kubernetes:helm.sh/v3:Release", "argo-workflows").inputs)
    extra = {e["name"]: e["value"] for e in release["values"]["controller"]["extraEnv"]}
    assert extra == CONTROLLER_ENV


def test_extra_env_never_overrides_what_upstream_set(manifests):
    objs = kx.manifest_objects([str(manifests)], "argo", env={"workflow-controller": {"KEPT": "ours", "NEW": "1"},
                                                              "absent": {"X": "1"}})  # fmt: skip
    dep = next(o for o in objs if o["kind"] == "Deployment")
    first, second = dep["spec"]["template"]["spec"]["containers"]
    assert first["env"] == [{"name": "KEPT", "value": "upstream"}, {"name": "NEW", "value": "1"}]
    assert "env" not in second


def test_controller_config_carries_every_setting_the_chart_renders():
    values = {"artifactRepository": {"s3": {"bucket": "b"}}, "executor": {"resources": {}},
              "mainContainer": {"securityContext": {}},
              "controller": {"parallelism": 5, "namespaceParallelism": 2, "workflowDefaults": {"spec": {}},
                             "persistence": {"archive": True}, "metricsConfig": {"enabled": True}}}  # fmt: skip
    got = controller_config(values)
    assert got["parallelism"] == "5" and yaml.safe_load(got["artifactRepository"]) == {"s3": {"bucket": "b"}}
    assert set(got) == {"artifactRepository", "parallelism", "namespaceParallelism", "workflowDefaults",
                        "persistence", "metricsConfig", "executor", "mainContainer"}  # fmt: skip


def test_an_external_database_is_used_as_given_and_installs_nothing():
    db = json.dumps({"mode": "external", "host": "pg.example", "sslmode": "verify-full"})
    rec = run_program(ROOT, "local", config_overrides={"conveyor:database": db},
                      secret_overrides={"conveyor:database_password": "pw-123"})  # fmt: skip
    assert not [r for r in rec.resources if r.type.startswith("kubernetes:postgresql.cnpg.io")]
    assert not [r for r in rec.resources if r.name == "metadata-password"]
    url = unwrap(rec.outputs["profile"])["metadata_url"]
    assert url.endswith("@pg.example:5432/conveyor?sslmode=verify-full")


def test_an_external_database_without_its_password_is_an_error():
    with pytest.raises(Exception, match="database_password: not set"):
        run_program(ROOT, "local", config_overrides={"conveyor:database": json.dumps({"mode": "external", "host": "h"})})


def test_generated_secrets_are_long_alphanumeric_and_distinct():
    values = {generate(32) for _ in range(20)}
    assert len(values) == 20 and all(len(v) == 32 and set(v) <= set(ALPHABET) for v in values)
    with pytest.raises(ValueError, match="between 16 and 128, got 8"):
        generate(8)


def test_a_generated_secret_is_kept_unless_its_length_changes():
    p = _Provider()
    created = p.create({"length": 20, "result": None})
    assert len(created.outs["result"]) == 20
    assert not p.diff(created.id, created.outs, {"length": 20, "result": None}).changes
    assert p.diff(created.id, created.outs, {"length": 24, "result": None}).replaces == ["length"]
