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
* mounts under the cluster's own directory, deepest first.
"""

from __future__ import annotations

import os
import re
import shlex
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
    prefix = str(root.resolve()).rstrip("/") + "/"
    points = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        target = line.split()[1].encode().decode("unicode_escape")
        if target.startswith(prefix):
            points.append(target)
    for target in sorted(set(points), key=len, reverse=True):
        if sh("umount", target, check=False).returncode != 0:
            sh("umount", "-l", target, check=False)
    return points


def is_root() -> bool:
    return os.geteuid() == 0
