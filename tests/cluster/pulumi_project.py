"""The platform program as a real Pulumi project on the harness cluster: a stack, its config, the CLI.

Why a copy of the project: the test stack's file (``stacks/Pulumi.local.yaml`` plus the air-gapped
overrides, encrypted secrets) must not be written into the checkout, and ``pulumi`` writes beside
``Pulumi.yaml``. The copy links the checkout's ``.venv`` (``Pulumi.yaml``: ``virtualenv: .venv``),
so the program runs exactly the code under test. The backend is a ``file://`` directory
(``pulumi login``); secrets use a passphrase provider. Nothing here reaches a network.

``airgap_config`` is what an air-gapped operator would set for an existing cluster where neither
chart repositories nor image registries are reachable: Argo and the Prometheus-operator CRDs from
the upstream projects' own manifests (shipped in their Go modules), everything needing an
unreachable chart marked as provided or replaced by an external service.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.cluster import build, pins
from tests.cluster.pulumi_build import Engine

ROOT = Path(__file__).resolve().parents[2]
PROJECT_FILES = ("Pulumi.yaml", "__main__.py", "components", "policies", "stacks")
STACK = "local"
ARGO_NAMESPACE = "argo-platform"


def argo_manifests() -> Path:
    """Argo's release manifests, from its module in the module cache (``argo_build`` downloads it)."""
    info = build.module_info(pins.ARGO, build.component_dir(pins.ARGO) / "module.log")
    return Path(info["Dir"]) / "manifests"


def prometheus_operator_crds() -> Path:
    comp = pins.PROMETHEUS_OPERATOR
    info = build.module_info(comp, build.component_dir(comp) / "module.log")
    return Path(info["Dir"]) / "example" / "prometheus-operator-crd"


# The platform's own Argo instance: the harness's out-of-cluster controller (the other e2e tests')
# handles unlabelled Workflows, this one only those labelled with its ID (the profile's).
INSTANCE_ID = "conveyor-local"
BUCKET = "conveyor-local-artifacts"


def airgap_config(gateway: str, db_port: int, s3_endpoint: str, image_registry: str) -> dict[str, Any]:
    """Overrides of the ``local`` stack for this cluster (see the module docstring and docs/deploy.md):
    the e2e platform's Postgres and S3 on the bridge gateway, images imported into the node."""
    argo = argo_manifests()
    return {
        "sources": {
            # Controller Deployment, its service account and cluster RBAC from upstream's manifests;
            # its image and the executor's are the locally built ones the node has imported.
            # The harness already has Argo's CRDs (the e2e controller runs out-of-cluster in `argo`).
            "argo_workflows": {"manifests": [str(argo / "base/workflow-controller"),
                                             str(argo / "cluster-install-no-crds/workflow-controller-rbac")],
                               "images": {"quay.io/argoproj/workflow-controller": pins.CONTROLLER_IMAGE,
                                          "quay.io/argoproj/argoexec": pins.ARGOEXEC_IMAGE}},  # fmt: skip
            # The operator's CRDs only: ServiceMonitors and PrometheusRules become real objects.
            "kube_prometheus_stack": {"manifests": [str(prometheus_operator_crds())]},
            "pushgateway": {"provided": True},
            "gpu_operator": {"provided": True},
        },
        "object_store": {"mode": "external", "endpoint": s3_endpoint, "access_key_id": "conveyor", "bucket": BUCKET},
        "database": {"mode": "external", "host": gateway, "port": db_port, "sslmode": "disable"},
        "argo": {"namespace": ARGO_NAMESPACE, "instance_id": INSTANCE_ID},
        "image_registry": image_registry,
    }


@dataclass
class Project:
    engine: Engine
    dir: Path
    env: dict[str, str]

    @classmethod
    def create(cls, engine: Engine, tmp: Path, kubeconfig: Path, overrides: dict[str, Any],
               secrets: dict[str, str]) -> Project:  # fmt: skip
        project = tmp / "project"
        project.mkdir(parents=True)
        for name in PROJECT_FILES:
            src = ROOT / name
            (shutil.copytree if src.is_dir() else shutil.copyfile)(src, project / name)
        (project / ".venv").symlink_to(ROOT / ".venv")
        # The policy pack runs in the project's virtualenv (it has pulumi-policy): no pip install.
        policy = project / "policies" / "PulumiPolicy.yaml"
        policy.write_text(policy.read_text().replace("virtualenv: venv", f"virtualenv: {ROOT / '.venv'}"))
        env = engine.env(tmp / "pulumi-home", passphrase="conveyor-e2e", venv_bin=ROOT / ".venv" / "bin")
        env["KUBECONFIG"] = str(kubeconfig)
        self = cls(engine, project, env)
        engine.install_provider(env)
        (tmp / "state").mkdir()
        self.run("login", f"file://{tmp / 'state'}")
        self.run("stack", "init", STACK, "--secrets-provider", "passphrase")
        self.run("config", "rm", "conveyor:kubeconfig_context")
        for key, value in overrides.items():
            self.run("config", "set", f"conveyor:{key}", json.dumps(value) if not isinstance(value, str) else value)
        for key, value in secrets.items():
            self.run("config", "set", "--secret", f"conveyor:{key}", value)
        self.run("config", "set", "--secret", "conveyor:kubeconfig", kubeconfig.read_text())
        return self

    def run(self, *args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess:
        argv = [str(self.engine.pulumi), *args, "--non-interactive"]
        proc = subprocess.run(argv, cwd=self.dir, env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"`pulumi {' '.join(args)}` failed (rc={proc.returncode}):\n"
                                 f"{proc.stdout[-6000:]}\n{proc.stderr[-4000:]}")  # fmt: skip
        return proc

    def up(self) -> subprocess.CompletedProcess:
        return self.run("up", "--yes", "--skip-preview", "--diff")

    def preview_json(self, *extra: str, check: bool = True) -> dict[str, Any]:
        proc = self.run("preview", "--json", *extra, check=check)
        return json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else {"raw": proc.stdout + proc.stderr}

    def state(self) -> list[dict[str, Any]]:
        return json.loads(self.run("stack", "export").stdout)["deployment"].get("resources", [])

    def urns(self) -> set[str]:
        return {r["urn"] for r in self.state()}

    def outputs(self) -> dict[str, Any]:
        return json.loads(self.run("stack", "output", "--json", "--show-secrets").stdout)

