"""Build Argo Workflows from its Go module, once per version, into the cluster cache outside the repo.

Everything comes from the Go module proxy (no release binaries, no images can be pulled here):
``workflow-controller`` and the ``argo`` CLI run on the host, ``argoexec`` goes into a locally built
OCI image that ``ctr -n k8s.io images import`` loads onto the node. The module zip lacks ``ui/dist``
(the CLI embeds it), so the build runs in a writable copy of the module with an empty placeholder.

Layout: ``$CONVEYOR_CLUSTER_CACHE/argo-<version>/`` (default ``~/.cache/conveyor-cluster``) with
``bin/``, ``manifests/``, ``argoexec-oci.tar``, ``logs/`` and ``.complete``. A failed step raises
``BuildError`` naming the step and its log file.

Usage: ``python -m tests.cluster.argo_build`` builds (if needed) and prints the paths as JSON.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.cluster import oci, pins

BINARIES = tuple(pins.ARGO.binaries.values())
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


class BuildError(RuntimeError):
    """A build step failed; the message names the step and the log to read."""

    def __init__(self, step: str, log: Path, detail: str = ""):
        self.step, self.log = step, log
        super().__init__(f"argo build step {step!r} failed{': ' + detail if detail else ''}; see {log}")


@dataclass(frozen=True)
class ArgoBuild:
    version: str
    root: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def argo(self) -> Path:
        return self.bin / "argo"

    @property
    def controller(self) -> Path:
        return self.bin / "workflow-controller"

    @property
    def argoexec(self) -> Path:
        return self.bin / "argoexec"

    @property
    def manifests(self) -> Path:
        return self.root / "manifests"

    @property
    def argoexec_image(self) -> Path:
        return self.root / "argoexec-oci.tar"

    @property
    def controller_image(self) -> Path:
        return self.root / "workflow-controller-oci.tar"

    @property
    def complete(self) -> bool:
        return (self.root / ".complete").exists()


def cache_root() -> Path:
    return Path(os.environ.get("CONVEYOR_CLUSTER_CACHE") or Path.home() / ".cache" / "conveyor-cluster")


def go_env() -> dict[str, str]:
    """Only the module proxy is reachable: no checksum DB (the module's own go.sum still pins every
    dependency, and builds run with -mod=readonly), no VCS fallback, no toolchain download."""
    env = dict(os.environ)
    env.update(GOPROXY=env.get("GOPROXY", "https://proxy.golang.org"), GOSUMDB="off",
               GOTOOLCHAIN="local", CGO_ENABLED="0", GOFLAGS="-mod=readonly")
    if "," in env["GOPROXY"] and "direct" in env["GOPROXY"]:
        env["GOPROXY"] = env["GOPROXY"].split(",")[0]
    return env


def _run(step: str, argv: list[str], log: Path, cwd: Path | None = None) -> str:
    log.parent.mkdir(parents=True, exist_ok=True)
    if shutil.which(argv[0]) is None:
        raise BuildError(step, log, f"{argv[0]!r} is not on PATH")
    with log.open("w") as fh:
        fh.write("$ " + " ".join(argv) + "\n")
        fh.flush()
        proc = subprocess.run(argv, cwd=cwd, env=go_env(), stdout=subprocess.PIPE, stderr=fh, text=True)
        fh.write(proc.stdout)
    if proc.returncode != 0:
        tail = log.read_text().strip().splitlines()[-1:] or [""]
        raise BuildError(step, log, f"exit {proc.returncode}: {tail[0][-200:]}")
    return proc.stdout


def ldflags(version: str, build_date: str) -> str:
    assign = {**pins.ARGO.ldflags_x, f"{pins.ARGO.module}.buildDate": build_date}
    return " ".join(["-s", "-w", *(f"-X {k}={v.format(version=version)}" for k, v in assign.items())])


def build(version: str = pins.ARGO.version, root: Path | None = None) -> ArgoBuild:
    """Build (or reuse) Argo ``version``; concurrent callers wait on a lock instead of building twice."""
    out = ArgoBuild(version, (root or cache_root()) / f"argo-{version}")
    if out.complete:
        return out
    out.root.mkdir(parents=True, exist_ok=True)
    with (out.root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not out.complete:
            _build(out)
    return out


def _build(out: ArgoBuild) -> None:
    logs, timings = out.root / "logs", {}
    start = time.monotonic()
    info = json.loads(_run("download module", ["go", "mod", "download", "-json",
                                               f"{pins.ARGO.module}@{out.version}"], logs / "download.log"))
    src = out.root / "src"
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(info["Dir"], src)  # the module cache is read-only; the UI placeholder needs a copy
    for path in [src, *src.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)
    placeholder = src / "ui" / "dist" / "app"
    placeholder.mkdir(parents=True, exist_ok=True)
    (placeholder / "index.html").write_text("<!-- argo UI not built: conveyor uses the CLI and controller only -->\n")
    _patch_missing_sources(src, logs / "patch.log")
    _run("download dependencies", ["go", "mod", "download"], logs / "deps.log", cwd=src)
    timings["download_s"] = round(time.monotonic() - start, 1)
    build_date = json.loads(Path(info["Info"]).read_text())["Time"]
    out.bin.mkdir(exist_ok=True)
    for name in BINARIES:
        t0 = time.monotonic()
        _run(f"go build {name}", ["go", "build", "-trimpath", "-ldflags", ldflags(out.version, build_date),
                                  "-o", str(out.bin / name), f"./cmd/{name}"], logs / f"build-{name}.log", cwd=src)
        timings[f"build_{name}_s"] = round(time.monotonic() - t0, 1)
    version_out = _run("check version", [str(out.argo), "version", "--short"], logs / "version.log")
    if out.version not in version_out:
        raise BuildError("check version", logs / "version.log", f"argo reports {version_out.strip()!r}")
    if out.manifests.exists():
        shutil.rmtree(out.manifests)
    shutil.copytree(src / "manifests", out.manifests)
    t0 = time.monotonic()
    files = [oci.ImageFile(out.argoexec, "/bin/argoexec")]
    if CA_BUNDLE.exists():  # TLS to S3/GCS artifact repositories
        files.append(oci.ImageFile(CA_BUNDLE, str(CA_BUNDLE), 0o644))
    oci.write_archive(oci.ImageSpec(pins.ARGOEXEC_IMAGE, tuple(files), ("argoexec",)), out.argoexec_image)
    timings["image_s"] = round(time.monotonic() - t0, 1)
    timings["total_s"] = round(time.monotonic() - start, 1)
    shutil.rmtree(src)  # 100+ MB of sources; the Go module cache keeps the zip for a rebuild
    (out.root / "timings.json").write_text(json.dumps(timings, indent=2) + "\n")
    (out.root / ".complete").write_text(out.version + "\n")


def controller_image(out: ArgoBuild) -> Path:
    """The workflow-controller as an OCI archive (written on first use: older caches lack it), for a
    controller Deployment on the node; the binary is static, so the image is the binary alone."""
    if not out.controller_image.exists():
        spec = oci.ImageSpec(pins.CONTROLLER_IMAGE, (oci.ImageFile(out.controller, "/bin/workflow-controller"),),
                             ("workflow-controller",), user=pins.CONTROLLER_USER)
        oci.write_archive(spec, out.controller_image)
    return out.controller_image


def _patch_missing_sources(src: Path, log: Path) -> None:
    """The v4.0.5 zip the proxy serves lacks ``workflow/executor/osspecific/signal_linux.go``
    (argoexec then fails with ``undefined: Setpgid``). Its darwin twin in the same zip uses only
    POSIX calls that Linux has too, so the Linux file is that one under the Linux name."""
    log.parent.mkdir(parents=True, exist_ok=True)
    osspecific = src / "workflow" / "executor" / "osspecific"
    linux, darwin = osspecific / "signal_linux.go", osspecific / "signal_darwin.go"
    if not linux.exists() and darwin.exists():
        shutil.copyfile(darwin, linux)
        log.write_text(f"created {linux.relative_to(src)} from {darwin.name} (missing from the module zip)\n")


def main() -> int:
    try:
        out = build()
    except BuildError as exc:
        print(exc, file=sys.stderr)
        return 1
    timings = json.loads((out.root / "timings.json").read_text())
    print(json.dumps({"version": out.version, "root": str(out.root), "argo": str(out.argo),
                      "controller": str(out.controller), "argoexec_image": str(out.argoexec_image),
                      "timings": timings}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
