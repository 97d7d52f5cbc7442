"""Host networking of the test cluster: the bridge, forwarding, and cleaning up after it.

The harness creates the CNI bridge itself, with the gateway address, *before* the
API server starts: the API server, the kubelet and test servers listen on that
address, which is the only host address pods may use.  Teardown removes what the
cluster added and nothing else:

* the bridge (deleting it also removes every veth still attached to it);
* iptables chains named ``KUBE-*`` / ``CNI-*`` (kube-proxy's, the kubelet's and the
  CNI plugins') and the jumps to them from the built-in chains;
* network namespaces ``cni-*`` that appeared while the cluster ran (a snapshot taken
  at start says which ones were already there);
* mounts under the cluster's own directory, deepest first;
* host sysctls the kubelet / kube-proxy change, restored to the values saved at start.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

NETNS_DIR = Path("/var/run/netns")
OWNED_CHAIN = re.compile(r"^(KUBE-|CNI-)")
TABLES = ("nat", "filter", "mangle")


def sh(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(list(cmd), capture_output=True, text=True, check=check)


def link_exists(name: str) -> bool:
    return sh("ip", "link", "show", name, check=False).returncode == 0


def create_bridge(name: str, gateway: str, prefix: int) -> None:
    if not link_exists(name):
        sh("ip", "link", "add", name, "type", "bridge")
    addrs = sh("ip", "-4", "-o", "addr", "show", "dev", name).stdout
    if f" {gateway}/" not in addrs:
        sh("ip", "addr", "add", f"{gateway}/{prefix}", "dev", name)
    sh("ip", "link", "set", name, "up")
    Path("/proc/sys/net/ipv4/ip_forward").write_text("1\n")


def delete_bridge(name: str) -> None:
    if link_exists(name):
        sh("ip", "link", "delete", name, check=False)


def netns_snapshot() -> list[str]:
    return sorted(p.name for p in NETNS_DIR.glob("cni-*")) if NETNS_DIR.exists() else []


def delete_new_netns(before: list[str]) -> list[str]:
    removed = []
    for name in netns_snapshot():
        if name not in before:
            sh("ip", "netns", "delete", name, check=False)
            removed.append(name)
    return removed


def _iptables(binary: str) -> None:
    if shutil.which(f"{binary}-save") is None:
        return
    for table in TABLES:
        dump = sh(f"{binary}-save", "-t", table, check=False)
        if dump.returncode != 0:
            continue
        chains = [line[1:].split()[0] for line in dump.stdout.splitlines() if line.startswith(":")]
        owned = [c for c in chains if OWNED_CHAIN.match(c)]
        for line in dump.stdout.splitlines():
            m = re.match(r"^-A (\S+) (.*)$", line)
            if m and not OWNED_CHAIN.match(m.group(1)) and re.search(r"-j (KUBE-|CNI-)", m.group(2)):
                sh(binary, "-t", table, "-D", m.group(1), *shlex.split(m.group(2)), check=False)
        for c in owned:
            sh(binary, "-t", table, "-F", c, check=False)
        for c in owned:
            sh(binary, "-t", table, "-X", c, check=False)


def remove_iptables_rules() -> None:
    """Remove every KUBE-*/CNI-* chain and the rules that jump to them (IPv4 and IPv6)."""
    for binary in ("iptables", "ip6tables"):
        _iptables(binary)


def unmount_under(root: Path) -> list[str]:
    """Unmount everything mounted below ``root`` (deepest first, lazily if busy)."""
    points = mounts_under(root)
    for target in sorted(set(points), key=len, reverse=True):
        if sh("umount", target, check=False).returncode != 0:
            sh("umount", "-l", target, check=False)
    return points


def is_root() -> bool:
    return os.geteuid() == 0


# Host sysctls that the kubelet (kernel tunables), kube-proxy (route_localnet) or the
# harness (ip_forward) may change; their values are saved at start and restored at teardown.
SYSCTLS = (
    "net/ipv4/ip_forward",
    "net/ipv4/conf/all/route_localnet",
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/panic",
    "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
)


def sysctl_snapshot() -> dict[str, str]:
    values = {}
    for key in SYSCTLS:
        try:
            values[key] = (Path("/proc/sys") / key).read_text().strip()
        except OSError:
            continue
    return values


def restore_sysctls(saved: dict[str, str]) -> None:
    for key, value in saved.items():
        path = Path("/proc/sys") / key
        try:
            if path.read_text().strip() != value:
                path.write_text(value + "\n")
        except OSError:
            continue


def owned_iptables_chains() -> list[str]:
    """``table/chain`` for every KUBE-*/CNI-* chain still present (teardown check)."""
    found = []
    for binary in ("iptables", "ip6tables"):
        if shutil.which(f"{binary}-save") is None:
            continue
        for table in TABLES:
            dump = sh(f"{binary}-save", "-t", table, check=False)
            found += [f"{binary}:{table}/{line[1:].split()[0]}" for line in dump.stdout.splitlines()
                      if line.startswith(":") and OWNED_CHAIN.match(line[1:])]
    return found


def mounts_under(root: Path) -> list[str]:
    prefix = str(root.resolve()).rstrip("/") + "/"
    return [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()
            if line.split()[1].startswith(prefix)]
