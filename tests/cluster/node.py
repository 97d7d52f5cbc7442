"""The processes of the single-node cluster: what each runs and how we know it is up.

Each ``Component`` is one host process with its argv, its log file under the
cluster's ``logs/`` and a readiness probe.  ``harness.py`` starts them in order
and records their pids, so a later ``python -m tests.cluster down`` (another
process) can stop them.  Every component gets the same admin identity (see
``pki.py``); ports other than the API server's and the kubelet's are picked free
on loopback so the cluster does not collide with anything else on the machine.
"""

from __future__ import annotations

import json
import socket
import ssl
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.cluster import configs, pins
from tests.cluster.configs import Layout
from tests.cluster.pki import Pki
from tests.services.common import free_port, http_ok, port_open


@dataclass
class Component:
    name: str
    argv: list[str]
    ready: Callable[[], bool]
    timeout: float = 60.0
    env: dict[str, str] = field(default_factory=dict)


def tls_context(pki: Pki) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(pki.ca))
    ctx.load_cert_chain(str(pki.path("admin.crt")), str(pki.path("admin.key")))
    return ctx


def api_get(layout: Layout, pki: Pki, path: str, timeout: float = 3.0) -> dict | str:
    """GET ``path`` from the API server as the admin; JSON is decoded."""
    with urllib.request.urlopen(layout.server + path, context=tls_context(pki), timeout=timeout) as resp:
        body = resp.read().decode()
    return json.loads(body) if body.startswith("{") else body


def node_ready(layout: Layout, pki: Pki) -> bool:
    node = api_get(layout, pki, f"/api/v1/nodes/{configs.NODE_NAME}")
    return any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"].get("conditions", []))


CNI_BIN_DIRS = ("/usr/lib/cni", "/opt/cni/bin")


def cni_bin_dir() -> str | None:
    return next((d for d in CNI_BIN_DIRS if (Path(d) / "bridge").exists() and (Path(d) / "host-local").exists()), None)


def components(layout: Layout, pki: Pki, bins: dict[str, Path]) -> list[Component]:
    """The cluster's processes in start order; ``bins`` maps binary name -> path."""
    kc = str(layout.kubeconfig)
    etcd_port, etcd_peer = free_port(), free_port()
    cm_port, sched_port = free_port(), free_port()
    kubelet_healthz, proxy_healthz, proxy_metrics = free_port(), free_port(), free_port()
    etcd_url = f"http://127.0.0.1:{etcd_port}"
    p = pki.path

    kubelet_cfg = layout.dir("kubelet") / "config.yaml"
    kubelet_cfg.write_text(configs.kubelet_config(layout, pki.ca, kubelet_healthz))
    proxy_cfg = layout.dir("kube-proxy") / "config.yaml"
    proxy_cfg.write_text(configs.kube_proxy_config(layout, layout.kubeconfig, proxy_healthz, proxy_metrics))
    ctd_cfg = layout.dir("containerd") / "config.toml"
    ctd_cfg.write_text(configs.containerd_toml(layout, str(bins["runc"]), cni_bin_dir() or CNI_BIN_DIRS[0]))

    def api_ready() -> bool:
        return api_get(layout, pki, "/readyz") == "ok"

    return [
        Component("etcd", [
            str(bins["etcd"]), "--name", "conveyor", "--data-dir", str(layout.dir("etcd")),
            "--listen-client-urls", etcd_url, "--advertise-client-urls", etcd_url,
            "--listen-peer-urls", f"http://127.0.0.1:{etcd_peer}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{etcd_peer}",
            "--initial-cluster", f"conveyor=http://127.0.0.1:{etcd_peer}",
            "--unsafe-no-fsync", "--log-level", "warn",
        ], lambda: http_ok(f"{etcd_url}/health")),
        Component("kube-apiserver", [
            str(bins["kube-apiserver"]), f"--etcd-servers={etcd_url}",
            f"--bind-address={layout.gateway}", f"--advertise-address={layout.gateway}",
            f"--secure-port={layout.apiserver_port}", f"--service-cluster-ip-range={layout.service_cidr}",
            f"--client-ca-file={pki.ca}", f"--tls-cert-file={p('apiserver.crt')}",
            f"--tls-private-key-file={p('apiserver.key')}",
            f"--kubelet-client-certificate={p('admin.crt')}", f"--kubelet-client-key={p('admin.key')}",
            f"--service-account-key-file={p('sa.pub')}", f"--service-account-signing-key-file={p('sa.key')}",
            f"--service-account-issuer=https://kubernetes.default.svc.{pins.CLUSTER_DOMAIN}",
            "--authorization-mode=RBAC", "--allow-privileged=true", "--profiling=false",
            # Reach the kubelet (logs, exec) by the node's bridge address, never by resolving its name.
            "--kubelet-preferred-address-types=InternalIP",
        ], api_ready, timeout=120),
        Component("kube-controller-manager", [
            str(bins["kube-controller-manager"]), f"--kubeconfig={kc}", f"--authentication-kubeconfig={kc}",
            f"--authorization-kubeconfig={kc}", "--bind-address=127.0.0.1", f"--secure-port={cm_port}",
            "--leader-elect=false", f"--service-account-private-key-file={p('sa.key')}",
            f"--root-ca-file={pki.ca}", f"--cluster-signing-cert-file={pki.ca}",
            f"--cluster-signing-key-file={p('ca.key')}", "--use-service-account-credentials=false",
            "--controllers=*", "--profiling=false",
        ], lambda: port_open(cm_port)),
        Component("kube-scheduler", [
            str(bins["kube-scheduler"]), f"--kubeconfig={kc}", f"--authentication-kubeconfig={kc}",
            f"--authorization-kubeconfig={kc}", "--bind-address=127.0.0.1", f"--secure-port={sched_port}",
            "--leader-elect=false", "--profiling=false",
        ], lambda: port_open(sched_port)),
        Component("containerd", [str(bins["containerd"]), "--config", str(ctd_cfg)],
                  lambda: layout.containerd_sock.exists() and port_open_unix(layout.containerd_sock)),
        Component("kubelet", [
            str(bins["kubelet"]), f"--config={kubelet_cfg}", f"--kubeconfig={kc}",
            f"--root-dir={layout.dir('kubelet/root')}", f"--cert-dir={layout.dir('kubelet/pki')}",
            f"--hostname-override={configs.NODE_NAME}", f"--node-ip={layout.gateway}", "--v=1",
        ], lambda: http_ok(f"http://127.0.0.1:{kubelet_healthz}/healthz"), timeout=90),
        Component("kube-proxy", [str(bins["kube-proxy"]), f"--config={proxy_cfg}"],
                  lambda: http_ok(f"http://127.0.0.1:{proxy_healthz}/healthz")),
    ]


def port_open_unix(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        s.connect(str(path))
        return True
