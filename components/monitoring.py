"""`Monitoring`: kube-prometheus-stack, Pushgateway, ServiceMonitors, alert rules and dashboards.

Why: pipeline health (task failures, queue time, GPU utilisation via DCGM) must be visible and
alerting without per-team setup. Rules and dashboards are data, not code: every
`assets/monitoring/rules/*.yaml` becomes a PrometheusRule and every `dashboards/*.json` a Grafana
dashboard ConfigMap, so adding an alert never touches this file. The Slack webhook is read by
Alertmanager from a Kubernetes Secret (`api_url_file`) and never appears in Helm values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components import k8s as kx
from components.config import StackConfig, type_token
from components.generated_secret import GeneratedSecret

NAMESPACE = "monitoring"
ASSETS = Path(__file__).parent / "assets" / "monitoring"
RULE_LABELS = {"release": "kube-prometheus-stack", "app.kubernetes.io/part-of": "conveyor"}
SLACK_SECRET = "alertmanager-slack"


def load_rules(directory: Path = ASSETS / "rules") -> dict[str, dict[str, Any]]:
    """`{name: PrometheusRule spec}` from rule files (`groups:` files or PrometheusRule manifests)."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.y*ml")) if directory.is_dir() else []:
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc:
                continue
            if doc.get("kind") == "PrometheusRule":
                name = doc.get("metadata", {}).get("name") or path.stem
                out[name] = doc["spec"]
            elif "groups" in doc:
                out[path.stem] = {"groups": doc["groups"]}
            else:
                raise ValueError(f"{path}: expected a PrometheusRule or a rule file with 'groups'")
    return out


def load_dashboards(directory: Path = ASSETS / "dashboards") -> dict[str, str]:
    """`{file name: JSON text}`; each JSON is parsed once so a broken file fails the deploy early."""
    out: dict[str, str] = {}
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        text = path.read_text()
        json.loads(text)
        out[path.name] = text
    return out


def _k8s_name(stem: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in stem.lower()).strip("-")[:60]


class Monitoring(pulumi.ComponentResource):
    """Exposes `pushgateway_url` for the profile."""

    def __init__(
        self,
        name: str,
        cfg: StackConfig,
        provider: k8s.Provider,
        argo_namespace: str,
        gpu_operator_namespace: str,
        slack_webhook_url: pulumi.Input[str] | None = None,
        assets: Path = ASSETS,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(type_token("Monitoring"), name, None, opts)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=provider)
        # node-exporter needs host PID/network: the monitoring namespace cannot enforce `restricted`.
        ns = kx.namespace(f"{name}-ns", NAMESPACE, "privileged", k8s_opts)
        in_ns = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[ns])
        grafana_pw = GeneratedSecret(f"{name}-grafana-admin", length=24,
                                           opts=pulumi.ResourceOptions(parent=self))  # fmt: skip
        k8s.core.v1.Secret(f"{name}-grafana-admin", metadata={"name": "grafana-admin", "namespace": NAMESPACE},
                           string_data={"admin-user": "admin", "admin-password": grafana_pw.result}, opts=in_ns)  # fmt: skip
        receivers: list[dict[str, Any]] = [{"name": "null"}]
        route: dict[str, Any] = {"receiver": "null", "group_by": ["alertname", "namespace"], "routes": []}
        secrets: list[str] = []
        if slack_webhook_url is not None:
            k8s.core.v1.Secret(f"{name}-slack", metadata={"name": SLACK_SECRET, "namespace": NAMESPACE},
                               string_data={"url": pulumi.Output.secret(slack_webhook_url)}, opts=in_ns)  # fmt: skip
            receivers.append({"name": "slack", "slack_configs": [{
                "api_url_file": f"/etc/alertmanager/secrets/{SLACK_SECRET}/url",
                "channel": cfg.monitoring.slack_channel, "send_resolved": True,
                "title": "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}",
                "text": "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}"}]})  # fmt: skip
            route = {**route, "receiver": "slack"}
            secrets.append(SLACK_SECRET)
        route["routes"] = [{"matchers": ['alertname = "Watchdog"'], "receiver": "null"}]
        sec = kx.secure("200m", "512Mi", "2", "4Gi")
        values = {
            "prometheus": {"prometheusSpec": {
                "retention": cfg.monitoring.retention,
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "podMonitorSelectorNilUsesHelmValues": False,
                "ruleSelectorNilUsesHelmValues": False,
                "resources": kx.resources("500m", "2Gi", "2", "8Gi"),
                "securityContext": sec["podSecurityContext"],
                "storageSpec": {"volumeClaimTemplate": {"spec": {
                    "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": cfg.monitoring.storage}}}}},
            }},
            "alertmanager": {
                "config": {"route": route, "receivers": receivers},
                "alertmanagerSpec": {"secrets": secrets, "resources": kx.resources("50m", "128Mi", "500m", "256Mi"),
                                     "securityContext": sec["podSecurityContext"]},
            },
            "grafana": {
                "admin": {"existingSecret": "grafana-admin", "userKey": "admin-user", "passwordKey": "admin-password"},
                "sidecar": {"dashboards": {"enabled": True, "label": "grafana_dashboard", "labelValue": "1",
                                           "searchNamespace": NAMESPACE}},
                "resources": kx.resources("100m", "256Mi", "1", "1Gi"),
                "service": {"type": "ClusterIP"},
            },
            "prometheusOperator": {"resources": kx.resources("100m", "256Mi", "1", "512Mi"),
                                   "securityContext": sec["podSecurityContext"],
                                   "containerSecurityContext": sec["securityContext"]},
        }  # fmt: skip
        stack = kx.install(f"{name}-kube-prometheus-stack", cfg.versions.kube_prometheus_stack,
                           cfg.source("kube_prometheus_stack"), NAMESPACE, values, in_ns,
                           release_name="kube-prometheus-stack")  # fmt: skip
        after_stack = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=kx.after(stack, ns))
        kx.install(
            f"{name}-pushgateway", cfg.versions.pushgateway, cfg.source("pushgateway"), NAMESPACE,
            {"fullnameOverride": "pushgateway", "serviceMonitor": {"enabled": True, "additionalLabels": RULE_LABELS},
             **kx.secure("50m", "64Mi", "500m", "256Mi"), "persistentVolume": {"enabled": True, "size": "2Gi"}},
            after_stack, release_name="pushgateway",
        )  # fmt: skip
        self._service_monitor(f"{name}-argo-controller", argo_namespace, "argo-workflows-controller",
                              {"app.kubernetes.io/component": "workflow-controller"}, "metrics", after_stack)  # fmt: skip
        self._service_monitor(f"{name}-dcgm", gpu_operator_namespace, "nvidia-dcgm-exporter",
                              {"app": "nvidia-dcgm-exporter"}, "gpu-metrics", after_stack)  # fmt: skip
        for rule_name, spec in load_rules(assets / "rules").items():
            k8s.apiextensions.CustomResource(
                f"{name}-rule-{_k8s_name(rule_name)}",
                api_version="monitoring.coreos.com/v1",
                kind="PrometheusRule",
                metadata={
                    "name": f"conveyor-{_k8s_name(rule_name)}",
                    "namespace": NAMESPACE,
                    "labels": RULE_LABELS,
                },
                spec=spec,
                opts=after_stack,
            )
        for file_name, text in load_dashboards(assets / "dashboards").items():
            stem = _k8s_name(Path(file_name).stem)
            k8s.core.v1.ConfigMap(
                f"{name}-dashboard-{stem}",
                metadata={"name": f"conveyor-dashboard-{stem}", "namespace": NAMESPACE,
                          "labels": {"grafana_dashboard": "1", "app.kubernetes.io/part-of": "conveyor"}},
                data={file_name: text},
                opts=in_ns,
            )  # fmt: skip
        self.pushgateway_url = f"http://pushgateway.{NAMESPACE}:9091"
        self.register_outputs({"pushgateway_url": self.pushgateway_url})

    def _service_monitor(self, res_name: str, namespace: str, name: str, selector: dict[str, str], port: str,
                         opts: pulumi.ResourceOptions) -> None:  # fmt: skip
        k8s.apiextensions.CustomResource(
            res_name,
            api_version="monitoring.coreos.com/v1",
            kind="ServiceMonitor",
            metadata={"name": name, "namespace": NAMESPACE, "labels": RULE_LABELS},
            spec={
                "namespaceSelector": {"matchNames": [namespace]},
                "selector": {"matchLabels": selector},
                "endpoints": [{"port": port, "interval": "30s"}],
            },
            opts=opts,
        )
