"""The node's configs say what the harness relies on (parsed, not string-matched)."""

from __future__ import annotations

import json
import tomllib

import yaml

from tests.cluster import configs, pins
from tests.cluster.configs import Layout


def test_layout_addresses_come_from_the_pinned_ranges(tmp_path):
    layout = Layout(tmp_path)
    assert layout.gateway == pins.POD_CIDR.split("/")[0][:-1] + "1"
    assert layout.service_vip == pins.SERVICE_CIDR.split("/")[0][:-1] + "1"
    assert layout.server == f"https://{layout.gateway}:6443"


def test_containerd_pins_the_sandbox_image_and_keeps_state_local(tmp_path):
    layout = Layout(tmp_path)
    cfg = tomllib.loads(configs.containerd_toml(layout, "/usr/sbin/runc", "/usr/lib/cni"))
    assert cfg["version"] == 3
    assert cfg["root"].startswith(str(tmp_path)) and cfg["state"].startswith(str(tmp_path))
    assert cfg["grpc"]["address"] == str(layout.containerd_sock)
    images = cfg["plugins"]["io.containerd.cri.v1.images"]
    assert images["pinned_images"]["sandbox"] == pins.PAUSE_IMAGE
    runtime = cfg["plugins"]["io.containerd.cri.v1.runtime"]
    assert runtime["containerd"]["runtimes"]["runc"]["options"]["BinaryName"] == "/usr/sbin/runc"
    assert runtime["cni"]["conf_dir"].startswith(str(tmp_path))


def test_kubelet_keeps_imported_images_and_runs_on_cgroup_v1(tmp_path):
    layout = Layout(tmp_path)
    cfg = yaml.safe_load(configs.kubelet_config(layout, tmp_path / "ca.crt", 12345))
    assert cfg["imageGCHighThresholdPercent"] == 100
    assert cfg["failCgroupV1"] is False and cfg["cgroupDriver"] == "cgroupfs"
    assert cfg["address"] == layout.gateway and cfg["healthzPort"] == 12345
    assert cfg["containerRuntimeEndpoint"] == f"unix://{layout.containerd_sock}"


def test_cni_bridge_gateway_is_the_layout_gateway(tmp_path):
    layout = Layout(tmp_path)
    conf = json.loads(configs.cni_conflist(layout))
    bridge = conf["plugins"][0]
    assert bridge["bridge"] == layout.bridge and bridge["isGateway"] is True and bridge["ipMasq"] is False
    (rng,) = bridge["ipam"]["ranges"]
    assert rng == [{"subnet": layout.pod_cidr, "gateway": layout.gateway}]
    assert bridge["ipam"]["dataDir"].startswith(str(tmp_path))


def test_kube_proxy_uses_iptables_mode(tmp_path):
    layout = Layout(tmp_path)
    cfg = yaml.safe_load(configs.kube_proxy_config(layout, tmp_path / "kc", 1, 2))
    assert cfg["mode"] == "iptables" and cfg["clusterCIDR"] == layout.pod_cidr
    assert cfg["hostnameOverride"] == configs.NODE_NAME
