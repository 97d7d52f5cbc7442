"""The config files of the node: containerd, the CNI bridge network, the kubelet, kube-proxy.

Rendered from a ``Layout`` (where things live and which addresses the cluster
uses) so the harness module only starts processes.  The choices that matter:

* containerd 2.x keeps all its state under the cluster's own directory and talks
  on its own socket, so it never meets a containerd the host may run;
* the sandbox (pause) image is *pinned* in containerd and the kubelet's image GC
  threshold is 100 %, so the locally imported images are never deleted (nothing
  can be pulled back);
* the CNI network is one Linux bridge whose gateway address is the only host
  address pods use (the API server and the test servers listen there);
* oom_score_adj is restricted (this VM withholds CAP_SYS_RESOURCE);
* the kubelet runs on cgroup v1 with the cgroupfs driver (this VM has no systemd
  cgroup manager and only v1 controllers).
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.cluster import pins

NODE_NAME = "conveyor-node"


@dataclass(frozen=True)
class Layout:
    """Every path and address of one cluster instance."""

    root: Path
    bridge: str = "cvy0"
    pod_cidr: str = pins.POD_CIDR
    service_cidr: str = pins.SERVICE_CIDR
    apiserver_port: int = 6443
    kubelet_port: int = 10250

    @property
    def gateway(self) -> str:
        return str(next(ipaddress.ip_network(self.pod_cidr).hosts()))

    @property
    def service_vip(self) -> str:
        """The ``kubernetes`` Service's ClusterIP: the first address of the service range."""
        return str(next(ipaddress.ip_network(self.service_cidr).hosts()))

    @property
    def server(self) -> str:
        return f"https://{self.gateway}:{self.apiserver_port}"

    def dir(self, name: str) -> Path:
        d = self.root / name
        d.mkdir(parents=True, exist_ok=True)
        return d

    @property
    def containerd_sock(self) -> Path:
        return self.root / "containerd" / "containerd.sock"

    @property
    def kubeconfig(self) -> Path:
        return self.root / "admin.kubeconfig"

    @property
    def logs(self) -> Path:
        return self.dir("logs")


def containerd_toml(layout: Layout, runc: str, cni_bin: str) -> str:
    c = layout.dir("containerd")
    return f"""version = 3
root = "{c / 'root'}"
state = "{c / 'state'}"

[grpc]
  address = "{layout.containerd_sock}"

[ttrpc]
  address = "{c / 'containerd.ttrpc.sock'}"

[debug]
  address = ""

[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "{pins.PAUSE_IMAGE}"

[plugins.'io.containerd.cri.v1.runtime']
  enable_selinux = false
  netns_mounts_under_state_dir = true
  # This VM withholds CAP_SYS_RESOURCE, so no process may lower its oom_score_adj; the sandbox's
  # -998 made runc's init die ("can't get final child's PID from pipe: EOF"). Restricting keeps
  # every container at or above containerd's own score, as rootless setups do.
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = "runc"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = "{runc}"
        Root = "{c / 'runc'}"
        SystemdCgroup = false
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["{cni_bin}"]
    conf_dir = "{layout.dir('cni/net.d')}"
    max_conf_num = 1
"""


def cni_conflist(layout: Layout) -> str:
    """A bridge network with host-local IPAM whose state stays in the cluster directory."""
    return json.dumps({
        "cniVersion": "1.0.0",
        "name": "conveyor",
        "plugins": [
            {
                "type": "bridge",
                "bridge": layout.bridge,
                "isGateway": True,
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": layout.pod_cidr, "gateway": layout.gateway}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(layout.dir("cni/ipam")),
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }, indent=2)


def kubelet_config(layout: Layout, ca: Path, healthz_port: int) -> str:
    cfg = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": layout.gateway,
        "port": layout.kubelet_port,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": healthz_port,
        "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True},
                           "x509": {"clientCAFile": str(ca)}},
        "authorization": {"mode": "Webhook"},
        "cgroupDriver": "cgroupfs",
        "failCgroupV1": False,
        "containerRuntimeEndpoint": f"unix://{layout.containerd_sock}",
        "failSwapOn": False,
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {"memory.available": "50Mi", "nodefs.available": "1%", "imagefs.available": "1%",
                         "nodefs.inodesFree": "1%"},
        "clusterDomain": pins.CLUSTER_DOMAIN,
        "resolvConf": "/etc/resolv.conf",
        "podLogsDir": str(layout.dir("kubelet/pod-logs")),
        "serializeImagePulls": False,
        "maxPods": 250,
        "registerNode": True,
        "syncFrequency": "5s",
        "fileCheckFrequency": "5s",
        "nodeStatusUpdateFrequency": "5s",
    }
    return yaml.safe_dump(cfg, sort_keys=False)


def kube_proxy_config(layout: Layout, kubeconfig: Path, healthz_port: int, metrics_port: int) -> str:
    cfg = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "mode": "iptables",
        "clientConnection": {"kubeconfig": str(kubeconfig)},
        "hostnameOverride": NODE_NAME,
        "clusterCIDR": layout.pod_cidr,
        "bindAddress": layout.gateway,
        "healthzBindAddress": f"127.0.0.1:{healthz_port}",
        "metricsBindAddress": f"127.0.0.1:{metrics_port}",
        # 0: leave the host's conntrack sysctls alone (other users share this machine).
        "conntrack": {"maxPerCore": 0},
    }
    return yaml.safe_dump(cfg, sort_keys=False)
