"""The base rootfs of task images, bootstrapped from Debian packages when no base image can be pulled.

``debootstrap --variant=minbase`` of Debian bookworm plus ``python3`` (3.11, the runtime's floor),
``python-is-python3`` (pods run ``python -m conveyor.runtime.pod``) and CA certificates (S3/GCS over
TLS). The result is a root filesystem tarball, cached outside the repository and keyed by suite,
package list and mirror, so it is built once per machine; the image builder ``ADD``s it ``FROM
scratch``. Needs root (debootstrap) and a reachable Debian mirror.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from conveyor.images.errors import ImageBuildError

SUITE = "bookworm"
PACKAGES = ("python3", "python-is-python3", "ca-certificates")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
# Trimmed after bootstrap: package caches and docs are not needed to run tasks.
PRUNE = ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/info")


@dataclass(frozen=True)
class BaseRootfs:
    suite: str
    packages: tuple[str, ...]
    mirror: str
    tarball: Path
    python_version: str  # "3.11": what host-side installs target
    seconds: float  # how long the bootstrap took (0.0 when it came from the cache)


def image_cache() -> Path:
    """``$CONVEYOR_IMAGE_CACHE`` or ``$XDG_CACHE_HOME/conveyor/images`` (default ``~/.cache``)."""
    explicit = os.environ.get("CONVEYOR_IMAGE_CACHE")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "conveyor" / "images"


def base_key(suite: str, packages: tuple[str, ...], mirror: str) -> str:
    text = json.dumps({"suite": suite, "packages": sorted(packages), "mirror": mirror}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def run_step(step: str, argv: list[str], log: Path) -> None:
    """Run one build step, appending its output to ``log``; a failure names the step and the log."""
    with log.open("a") as fh:
        fh.write(f"\n== {step}\n$ {' '.join(argv)}\n")
        fh.flush()
        proc = subprocess.run(argv, stdout=fh, stderr=subprocess.STDOUT, check=False)
    if proc.returncode != 0:
        raise ImageBuildError(step, f"exit code {proc.returncode}", log)


def build_base(suite: str = SUITE, packages: tuple[str, ...] = PACKAGES, mirror: str = DEFAULT_MIRROR,
               cache: Path | None = None) -> BaseRootfs:
    """The cached rootfs tarball for ``suite`` + ``packages``; bootstraps it on first use."""
    root = (cache or image_cache()) / f"base-{suite}-{base_key(suite, packages, mirror)}"
    cached = _cached(root, suite, packages, mirror)
    if cached:
        return cached
    root.mkdir(parents=True, exist_ok=True)
    # Two builds on one machine (a CI prebuild beside the tests, two terminals) share one bootstrap:
    # the second waits here, then reuses it, instead of racing on the same partial tarball.
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _cached(root, suite, packages, mirror) or _bootstrap(root, suite, packages, mirror)


def _cached(root: Path, suite: str, packages: tuple[str, ...], mirror: str) -> BaseRootfs | None:
    tarball, meta = root / "rootfs.tar", root / "base.json"
    if not (tarball.exists() and meta.exists()):
        return None
    info = json.loads(meta.read_text())
    return BaseRootfs(suite, packages, mirror, tarball, info["python_version"], 0.0)


def _bootstrap(root: Path, suite: str, packages: tuple[str, ...], mirror: str) -> BaseRootfs:
    tarball, meta = root / "rootfs.tar", root / "base.json"
    for tool in ("debootstrap", "tar"):
        if shutil.which(tool) is None:
            raise ImageBuildError("base rootfs", f"{tool!r} is not on PATH (Debian: apt-get install {tool})")
    if os.geteuid() != 0:
        raise ImageBuildError("base rootfs", "debootstrap needs root; run as root or pass --base IMAGE")
    log = root / "debootstrap.log"
    log.write_text("")
    start = time.monotonic()
    with tempfile.TemporaryDirectory(dir=root, prefix="rootfs-") as tmp:
        target = Path(tmp) / "rootfs"
        run_step("base rootfs: debootstrap", ["debootstrap", "--variant=minbase", f"--include={','.join(packages)}",
                                          suite, str(target), mirror], log)
        for rel in PRUNE:
            for child in (target / rel).glob("*"):
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        version = _python_version(target, log)
        partial = root / "rootfs.tar.partial"
        run_step("base rootfs: tar", ["tar", "-C", str(target), "--numeric-owner", "--exclude=./dev/*",
                                  "--exclude=./proc/*", "--exclude=./sys/*", "-cf", str(partial), "."], log)
        partial.replace(tarball)
    seconds = round(time.monotonic() - start, 1)
    meta.write_text(json.dumps({"suite": suite, "packages": list(packages), "mirror": mirror,
                                "python_version": version, "seconds": seconds}, indent=2) + "\n")
    return BaseRootfs(suite, packages, mirror, tarball, version, seconds)


def _python_version(target: Path, log: Path) -> str:
    """The bootstrapped interpreter's X.Y, read from its stdlib directory (no chroot needed)."""
    found = sorted(p.name.removeprefix("python") for p in (target / "usr" / "lib").glob("python3.*")
                   if (p / "os.py").exists())
    if not found:
        raise ImageBuildError("base rootfs", "no python3 stdlib in the bootstrapped rootfs", log)
    return found[-1]
