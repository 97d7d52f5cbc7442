"""Start and stop the single-node test cluster (``up`` / ``down``), shared by pytest and make.

``up`` builds the pinned binaries (once; ``build.py``), creates the bridge, the
certificates and the configs, starts etcd -> kube-apiserver -> controller-manager
-> scheduler -> containerd (and imports the local images) -> kubelet -> kube-proxy,
and waits until the node is Ready and the ``default`` service account exists.
It writes ``<root>/state.json`` (pids, timings, the pre-start netns snapshot) as
it goes, so ``down`` -- possibly run by another process, e.g. ``make
cluster-down`` -- can stop exactly what was started and undo the host changes.
A failure while starting names the step and the component's log, and tears down
what was already started.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from tests.cluster import build, configs, images, network, node, pins, pki
from tests.cluster.configs import Layout
from tests.services.common import ServiceProcess, tail

STATE_ENV = "CONVEYOR_CLUSTER_STATE"
# containerd 2.x keeps shim sockets and fifos under /run/containerd whatever its config says;
# teardown removes these directories when they are empty (a host containerd's stay untouched).
RUN_DIRS = ("/run/containerd/runc/k8s.io", "/run/containerd/runc", "/run/containerd/fifo", "/run/containerd/s",
            "/run/containerd")
STOP_ORDER = ("kube-proxy", "kubelet", "kube-scheduler", "kube-controller-manager", "containerd",
              "kube-apiserver", "etcd")
NODE_READY_TIMEOUT = 180.0


class StartError(RuntimeError):
    """The cluster could not start; names the step and the log to read."""

    def __init__(self, step: str, log: Path, detail: str = "") -> None:
        self.step, self.log = step, log
        super().__init__(f"cluster start step '{step}' failed; see {log}" + (f"\n{detail}" if detail else ""))


@dataclass(frozen=True)
class ClusterInfo:
    """What a test or a person needs to use the cluster."""

    root: str
    kubeconfig: str
    server: str
    gateway: str
    service_vip: str
    node_name: str
    timings: dict


def default_root() -> Path:
    return Path(os.environ.get(STATE_ENV) or "/tmp/conveyor-cluster")


def _state_path(root: Path) -> Path:
    return root / "state.json"


def _load_state(root: Path) -> dict | None:
    with contextlib.suppress(OSError, ValueError):
        return json.loads(_state_path(root).read_text())
    return None


def _save_state(root: Path, state: dict) -> None:
    tmp = _state_path(root).with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(_state_path(root))


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def running(root: Path | None = None) -> ClusterInfo | None:
    """The cluster already up under ``root`` (e.g. from ``make cluster-up``), or None."""
    state = _load_state(root or default_root())
    if not state or "info" not in state or not all(alive(p) for p in state["pids"].values()):
        return None
    return ClusterInfo(**state["info"])


def build_all() -> dict[str, Path]:
    """Every binary the node runs, by name (built once into the cache)."""
    bins: dict[str, Path] = {}
    for comp in pins.K8S_COMPONENTS:
        bin_dir = build.ensure(comp)
        bins.update({name: bin_dir / name for name in comp.binaries.values()})
    return bins


def import_archive(archive: Path, root: Path | None = None) -> None:
    """Import an OCI/docker archive into the running node's containerd (``k8s.io`` namespace), so
    pods can use it with ``imagePullPolicy: Never`` / ``IfNotPresent`` (nothing can be pulled)."""
    layout = Layout(root or default_root())
    ctr = build.component_dir(pins.CONTAINERD) / "bin" / "ctr"
    log = layout.logs / "images.log"
    cmd = [str(ctr), "--address", str(layout.containerd_sock), "-n", "k8s.io", "images", "import", "--local",
           str(archive)]
    with log.open("a") as fh:
        fh.write(f"=== {' '.join(cmd)}\n")
        fh.flush()
        rc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT).returncode
    if rc != 0:
        raise StartError(f"import image {archive.name}", log, tail(log))


def start_component(comp: node.Component, layout: Layout, env: dict[str, str]) -> ServiceProcess:
    """Start one component and wait for its probe; a failure names the component and its log."""
    proc = ServiceProcess(comp.name, comp.argv, layout.logs, env=env)
    try:
        proc.start(comp.ready, timeout=comp.timeout)
    except (OSError, RuntimeError) as exc:
        raise StartError(f"start {comp.name}", proc.log_path, f"{exc}\n{proc.log_tail()}") from exc
    return proc


def _wait(what: str, check, timeout: float, log: Path) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with contextlib.suppress(Exception):
            if check():
                return time.monotonic() - started
        time.sleep(0.5)
    raise StartError(f"wait for {what}", log, tail(log))


def up(root: Path | None = None) -> ClusterInfo:
    """Start the cluster under ``root``; raise StartError (after cleaning up) if any step fails."""
    root = root or default_root()
    if running(root):
        raise StartError("check for a running cluster", _state_path(root),
                         f"a cluster is already running under {root}; run `make cluster-down` first")
    down(root)  # leftovers of a crashed run
    shutil.rmtree(root / "logs", ignore_errors=True)
    t0 = time.monotonic()
    bins = build_all()
    timings: dict = {"build_s": round(time.monotonic() - t0, 1), "start_s": {}}
    root.mkdir(parents=True, exist_ok=True)
    layout = Layout(root)
    state: dict = {"pids": {}, "netns_before": network.netns_snapshot(), "sysctls": network.sysctl_snapshot(),
                   "bridge": layout.bridge,
                   "shim": str(bins["containerd-shim-runc-v2"])}
    _save_state(root, state)
    try:
        t1 = time.monotonic()
        prefix = int(layout.pod_cidr.split("/")[1])
        network.create_bridge(layout.bridge, layout.gateway, prefix)
        keys = pki.generate(layout.dir("pki"), gateway=layout.gateway, service_vip=layout.service_vip,
                            cluster_domain=pins.CLUSTER_DOMAIN)
        pki.write_kubeconfig(keys, layout.server, layout.kubeconfig)
        (layout.dir("cni/net.d") / "10-conveyor.conflist").write_text(configs.cni_conflist(layout))
        path = os.pathsep.join([str(bins["containerd"].parent), "/usr/sbin", "/usr/bin", "/sbin", "/bin"])
        for comp in node.components(layout, keys, bins):
            c0 = time.monotonic()
            proc = start_component(comp, layout, {**os.environ, "PATH": path})
            state["pids"][comp.name] = proc.proc.pid
            _save_state(root, state)
            if comp.name == "containerd":
                for archive in (images.pause_archive(), images.busybox_archive()):
                    import_archive(archive, root)
            timings["start_s"][comp.name] = round(time.monotonic() - c0, 1)
        kubelet_log = layout.logs / "kubelet.log"
        timings["node_ready_s"] = round(_wait("node Ready", lambda: node.node_ready(layout, keys), NODE_READY_TIMEOUT,
                                              kubelet_log), 1)
        _wait("default service account", lambda: node.api_get(
            layout, keys, "/api/v1/namespaces/default/serviceaccounts/default"), 60,
            layout.logs / "kube-controller-manager.log")
        timings["up_s"] = round(time.monotonic() - t1, 1)
    except BaseException:
        down(root)
        raise
    info = ClusterInfo(root=str(root), kubeconfig=str(layout.kubeconfig), server=layout.server,
                       gateway=layout.gateway, service_vip=layout.service_vip, node_name=configs.NODE_NAME,
                       timings=timings)
    state["info"] = asdict(info)
    _save_state(root, state)
    return info


def _delete_pods(root: Path) -> None:
    """Ask the kubelet (through the API) to stop every pod, so CNI releases veths and netns cleanly."""
    keys, layout = pki.Pki(root / "pki"), Layout(root)
    with contextlib.suppress(Exception):
        for ns in node.api_get(layout, keys, "/api/v1/namespaces")["items"]:
            req = urllib.request.Request(
                f"{layout.server}/api/v1/namespaces/{ns['metadata']['name']}/pods?gracePeriodSeconds=0",
                method="DELETE")
            urllib.request.urlopen(req, context=node.tls_context(keys), timeout=5).close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and node.api_get(layout, keys, "/api/v1/pods")["items"]:
            time.sleep(0.5)


def _stop_pid(pid: int, grace: float = 10.0) -> None:
    """SIGTERM the process group we started (each component is its own session), then SIGKILL."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and alive(pid):
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.1)
        if not alive(pid):
            return


def _kill_leftover_containers(shim: str) -> None:
    """Shims (and the containers below them) outlive containerd; find ours by their binary path."""
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                if os.readlink(proc / "exe") == shim:
                    _stop_pid_tree(int(proc.name))


def _stop_pid_tree(pid: int) -> None:
    with contextlib.suppress(OSError):
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            _stop_pid_tree(int(child))
        os.kill(pid, signal.SIGKILL)


def _remove_cgroups() -> None:
    """The kubelet's cgroupfs hierarchy (``kubepods``) in every v1 controller, after its processes."""
    for ctrl in Path("/sys/fs/cgroup").iterdir():
        top = ctrl / "kubepods"
        if not top.is_dir():
            continue
        dirs = sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True) + [top]
        for d in dirs:
            with contextlib.suppress(OSError):
                for pid in (d / "cgroup.procs").read_text().split():
                    os.kill(int(pid), signal.SIGKILL)
            with contextlib.suppress(OSError):
                d.rmdir()


def leftovers(root: Path, state: dict) -> list[str]:
    """What a teardown failed to remove: live processes, the bridge, iptables chains, mounts, netns."""
    left = [f"process {name} (pid {pid})" for name, pid in state.get("pids", {}).items() if alive(pid)]
    bridge = state.get("bridge", Layout(root).bridge)
    left += [f"bridge {bridge}"] if network.link_exists(bridge) else []
    left += [f"iptables chain {c}" for c in network.owned_iptables_chains()]
    left += [f"mount {m}" for m in network.mounts_under(root)]
    before = set(state.get("netns_before", []))
    left += [f"netns {n}" for n in network.netns_snapshot() if n not in before]
    left += [f"cgroup {d}" for d in Path("/sys/fs/cgroup").glob("*/kubepods")]
    return left


def down(root: Path | None = None) -> dict:
    """Stop everything ``up`` started under ``root`` and undo its host changes.

    Returns the teardown time and ``leftovers`` (empty when everything is gone).
    """
    root = root or default_root()
    state = _load_state(root)
    if state is None:
        return {}
    t0 = time.monotonic()
    pids = state.get("pids", {})
    if pids.get("kubelet") and alive(pids["kubelet"]):
        _delete_pods(root)
    for name in STOP_ORDER:
        if name in pids:
            _stop_pid(pids[name])
    if state.get("shim"):
        _kill_leftover_containers(state["shim"])
    _remove_cgroups()
    network.unmount_under(root)
    for d in RUN_DIRS:
        with contextlib.suppress(OSError):
            Path(d).rmdir()
    network.delete_new_netns(state.get("netns_before", []))
    network.remove_iptables_rules()
    network.delete_bridge(state.get("bridge", Layout(root).bridge))
    network.restore_sysctls(state.get("sysctls", {}))
    left = leftovers(root, state)
    for child in root.iterdir():
        if child.name != "logs":
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
    return {"down_s": round(time.monotonic() - t0, 1), "leftovers": left}


def preflight() -> str | None:
    """Why this machine cannot run the cluster, or None.  Checked before building anything."""
    needs_go = not all(build.built(c) for c in pins.K8S_COMPONENTS)
    checks = [
        (os.name == "posix" and os.uname().sysname == "Linux", "the test cluster needs Linux"),
        (network.is_root(), "the test cluster needs root (bridge, iptables, mounts, cgroups)"),
        (not needs_go or shutil.which("go") is not None, "no `go` toolchain on PATH to build Kubernetes"),
        (shutil.which("gcc") is not None, "no gcc to compile the pause image"),
        (build.built(pins.RUNC) or Path("/usr/include/seccomp.h").exists(),
         "building runc needs libseccomp's headers (apt-get install libseccomp-dev)"),
        (node.cni_bin_dir() is not None, "no CNI plugins (apt-get install containernetworking-plugins)"),
        (shutil.which("iptables") is not None, "no iptables (apt-get install iptables)"),
        (Path("/bin/busybox").exists(), "no static busybox for the test image (apt-get install busybox-static)"),
        ("overlay" in _read("/proc/filesystems"), "the kernel has no overlayfs"),
        (Path("/sys/fs/cgroup/memory").is_dir() or Path("/sys/fs/cgroup/cgroup.controllers").exists(),
         "no memory cgroup controller mounted"),
    ]
    return next((reason for ok, reason in checks if not ok), None)


def _read(path: str) -> str:
    with contextlib.suppress(OSError):
        return Path(path).read_text()
    return ""
