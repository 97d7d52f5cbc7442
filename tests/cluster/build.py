"""Build the pinned upstream components once, into a cache outside the repo.

Why a cache: Kubernetes takes tens of minutes to compile on a small machine; the
binaries depend only on the pin, so ``<cache>/<name>-<version>/bin`` is built the
first time and reused by every later run, test session and ``make cluster-up``.
A directory counts as built only when its ``.complete`` stamp exists, so an
interrupted build is redone rather than half-used.

Why a wrapper module: ``go install pkg@version`` refuses modules whose go.mod has
``replace`` lines, and k8s.io/kubernetes points every ``k8s.io/*`` staging module at
``./staging``.  We generate a tiny main module that requires the pinned module and,
for Kubernetes, replaces each staging module by its ``v0.X.Y`` release; the list is
read from upstream's own go.mod, never typed.

Every step logs to ``<cache>/<key>/build.log``; a failure raises ``BuildError``
naming the step and that log.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from tests.cluster.pins import GoComponent

CACHE_ENV = "CONVEYOR_CLUSTER_CACHE"
STAMP = ".complete"


class BuildError(RuntimeError):
    """A build step failed; the message names the step and its log file."""

    def __init__(self, step: str, log: Path, detail: str = "") -> None:
        self.step, self.log = step, log
        tail = f"\n{detail}" if detail else ""
        super().__init__(f"cluster build step '{step}' failed; see {log}{tail}")


def cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "conveyor-cluster")


def go_env() -> dict[str, str]:
    """The Go environment: only the module proxy is reachable, never a VCS 'direct' fetch."""
    env = dict(os.environ)
    env.setdefault("GOPROXY", "https://proxy.golang.org")
    env["GOFLAGS"] = "-mod=mod -buildvcs=false"
    env["GOTOOLCHAIN"] = "local"
    return env


def log_tail(log: Path, lines: int = 25) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def run_step(step: str, cmd: list[str], log: Path, cwd: Path | None = None, env: dict | None = None) -> str:
    """Run one build command, appending its output to ``log``; raise BuildError on failure."""
    started = time.monotonic()
    with log.open("a") as fh:
        fh.write(f"\n=== {step}: {' '.join(cmd)}\n")
        fh.flush()
        proc = subprocess.run(cmd, cwd=cwd, env=env or go_env(), stdout=subprocess.PIPE, stderr=fh, text=True)
        fh.write(proc.stdout)
        fh.write(f"=== {step}: rc={proc.returncode} in {time.monotonic() - started:.1f}s\n")
    if proc.returncode != 0:
        raise BuildError(step, log, log_tail(log))
    return proc.stdout


def module_info(comp: GoComponent, log: Path) -> dict:
    """Download the pinned module; ``go mod download -json`` says where its files and go.mod are."""
    log.parent.mkdir(parents=True, exist_ok=True)
    out = run_step(f"{comp.name}: go mod download", ["go", "mod", "download", "-json", f"{comp.module}@{comp.version}"], log)
    return json.loads(out)


def staging_replaces(gomod: str, version: str) -> dict[str, str]:
    """k8s.io/kubernetes vX.Y.Z -> {staging module: v0.Y.Z}, from its ``=> ./staging/...`` lines."""
    staged = re.findall(r"^\s*(k8s\.io/[\w.\-/]+)\s+=>\s+\./staging/", gomod, re.M)
    if not staged:
        raise ValueError("k8s.io/kubernetes go.mod has no './staging' replace lines; the wrapper cannot be generated")
    release = "v0." + version.removeprefix("v").split(".", 1)[1]
    return {name: release for name in sorted(set(staged))}


def wrapper_gomod(comp: GoComponent, replaces: dict[str, str]) -> str:
    lines = [f"module conveyor.test/build/{comp.name}", "", "go 1.24.0", "", f"require {comp.module} {comp.version}", ""]
    if replaces:
        lines += ["replace ("] + [f"\t{m} => {m} {v}" for m, v in replaces.items()] + [")"]
    return "\n".join(lines) + "\n"


def ldflags(comp: GoComponent) -> str:
    xs = " ".join(f"-X '{k}={v.format(version=comp.version)}'" for k, v in comp.ldflags_x.items())
    return f"-s -w {xs}".strip()


def component_dir(comp: GoComponent) -> Path:
    return cache_root() / comp.key


def built(comp: GoComponent) -> bool:
    d = component_dir(comp)
    return (d / STAMP).exists() and all((d / "bin" / b).exists() for b in comp.binaries.values())


def default_binary_name(pkg: str) -> str:
    """The name ``go build -o DIR/`` gives a main package (a trailing /vN is skipped)."""
    parts = pkg.split("/")
    return parts[-2] if re.fullmatch(r"v\d+", parts[-1]) and len(parts) > 1 else parts[-1]


@contextlib.contextmanager
def _locked(d: Path):
    """One builder per component at a time (a pytest session and `make cluster-up` may race)."""
    d.mkdir(parents=True, exist_ok=True)
    with (d / ".lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def ensure(comp: GoComponent) -> Path:
    """Return ``<cache>/<key>/bin`` with every binary of ``comp``, building it the first time."""
    d = component_dir(comp)
    if built(comp):
        return d / "bin"
    with _locked(d):
        if not built(comp):
            _build(comp, d)
    return d / "bin"


def _build(comp: GoComponent, d: Path) -> None:
    src, bin_dir, log = d / "src", d / "bin", d / "build.log"
    if shutil.which("go") is None:
        raise BuildError(f"{comp.name}: find go", log, "no `go` on PATH (Go >= 1.24 is needed)")
    src.mkdir(parents=True, exist_ok=True)
    (d / STAMP).unlink(missing_ok=True)
    started = time.monotonic()
    gomod = Path(module_info(comp, log)["GoMod"]).read_text()
    replaces = staging_replaces(gomod, comp.version) if comp.k8s_staging else {}
    (src / "go.mod").write_text(wrapper_gomod(comp, replaces))
    # The package must exist for `go build` to resolve the module graph into go.mod/go.sum.
    (src / "wrapper.go").write_text("// Package wrapper only pins the upstream module.\npackage wrapper\n")
    env = go_env()
    env["CGO_ENABLED"] = "1" if comp.cgo else "0"
    # One `go build` for all of a component's binaries: it schedules the shared packages once.
    out = d / "bin.partial"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    cmd = ["go", "build", "-trimpath", "-ldflags", ldflags(comp), "-o", str(out) + "/"]
    if comp.tags:
        cmd += ["-tags", ",".join(comp.tags)]
    run_step(f"{comp.name}: go build {' '.join(comp.binaries.values())}", cmd + list(comp.binaries), log,
             cwd=src, env=env)
    for pkg, name in comp.binaries.items():
        (out / default_binary_name(pkg)).rename(out / name)
    shutil.rmtree(bin_dir, ignore_errors=True)
    out.rename(bin_dir)
    (d / "timings.json").write_text(json.dumps({"build_s": round(time.monotonic() - started, 1)}))
    (d / STAMP).write_text(comp.version + "\n")
