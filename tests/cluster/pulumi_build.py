"""Build the real Pulumi engine from the Go module proxy, once, into the cluster cache.

Three parts, each a pin in ``pins.py`` and a ``<cache>/<name>-<version>/bin`` directory that counts
as built only with its ``.complete`` stamp (``build.py``'s rules):

- the CLI (``pkg/v3/cmd/pulumi``): its go.mod has ``replace`` lines, which ``go install pkg@v``
  refuses, so it builds in a wrapper module that repeats upstream's *non-local* replaces (read from
  upstream's go.mod, never typed) and drops the local one (``sdk/v3 => ../sdk``, which the require
  of the same version satisfies);
- the Python language host, plus the shell shims that sit next to it in a release archive. The
  newest one the proxy serves (v3.68) predates the engine's current RunPlugin request, so a
  small patch (``patches/runplugin_info.go``) lets it find a policy pack's directory;
- the kubernetes provider: its main package embeds ``schema-embed.json``, which ``go generate``
  writes, so it builds in a writable copy of the module whose local ``replace`` (``sdk/v4 =>
  ../sdk``) becomes a require of the same release.

``engine()`` returns the paths plus an environment for running ``pulumi`` offline: no update
check, no automatic plugin download, a passphrase secrets provider, a ``file://`` backend.
Usage: ``python -m tests.cluster.pulumi_build`` builds (if needed) and prints the timings.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.cluster import build, pins
from tests.cluster.pins import GoComponent

LANGHOST_SHIMS = ("python/cmd/pulumi-language-python-exec", "python/dist/pulumi-resource-pulumi-python",
                  "python/dist/pulumi-analyzer-policy-python")  # fmt: skip
_REPLACE_LINE = re.compile(r"^\s*(?:replace\s+)?(\S+)(?:\s+(v\S+))?\s+=>\s+(\S+)(?:\s+(v\S+))?\s*$")


def replaces(gomod: str) -> list[tuple[str, str, str]]:
    """Every ``replace`` of a go.mod as (old module, new module or path, new version or '')."""
    out, block = [], False
    for raw in gomod.splitlines():
        line = raw.split("//", 1)[0].strip()
        if block:
            if line == ")":
                block = False
                continue
        elif line.startswith("replace ("):
            block = True
            continue
        elif not line.startswith("replace "):
            continue
        m = _REPLACE_LINE.match(line)
        if m:
            out.append((m.group(1), m.group(3), m.group(4) or ""))
    return out


def is_local(target: str) -> bool:
    return target.startswith((".", "/"))


def wrapper_gomod(comp: GoComponent, upstream_gomod: str) -> str:
    """A main module requiring ``comp`` that repeats upstream's non-local replaces."""
    go_line = re.search(r"^go\s+(\S+)", upstream_gomod, re.M)
    lines = [f"module conveyor.test/build/{comp.name}", "", f"go {go_line.group(1) if go_line else '1.24.0'}", "",
             f"require {comp.module} {comp.version}", ""]  # fmt: skip
    kept = [f"replace {old} => {new} {ver}".rstrip() for old, new, ver in replaces(upstream_gomod) if not is_local(new)]
    return "\n".join(lines + kept) + "\n"


def pin_local_replaces(gomod: str, versions: dict[str, str]) -> str:
    """go.mod of a writable module copy: each local replace becomes a require of a pinned version."""
    out = gomod
    for old, new, _ in replaces(gomod):
        if not is_local(new):
            continue
        if old not in versions:
            raise ValueError(f"go.mod replaces {old} with the local path {new}; no release pinned for it "
                             f"(pinned: {sorted(versions)})")  # fmt: skip
        out = re.sub(rf"^\s*replace\s+{re.escape(old)}\s+=>\s+{re.escape(new)}\s*$\n?", "", out, flags=re.M)
        out, n = re.subn(rf"^(\s*(?:require\s+)?{re.escape(old)})\s+v\S+", rf"\g<1> {versions[old]}", out, flags=re.M)
        if n == 0:
            raise ValueError(f"go.mod replaces {old} but does not require it")
    return out


def _go_build(comp: GoComponent, cwd: Path, targets: list[str], out: Path, log: Path) -> None:
    env = build.go_env()
    env["CGO_ENABLED"] = "0"
    env.setdefault("GOSUMDB", "off")  # only the proxy is reachable; go.sum of each module still pins
    cmd = ["go", "build", "-trimpath", "-ldflags", build.ldflags(comp), "-o", str(out) + "/", *targets]
    build.run_step(f"{comp.name}: go build", cmd, log, cwd=cwd, env=env)


def _stamp(comp: GoComponent, d: Path, out: Path, started: float) -> None:
    shutil.rmtree(d / "bin", ignore_errors=True)
    out.rename(d / "bin")
    (d / "timings.json").write_text(json.dumps({"build_s": round(time.monotonic() - started, 1)}))
    (d / build.STAMP).write_text(comp.version + "\n")


def _fresh(d: Path) -> Path:
    (d / build.STAMP).unlink(missing_ok=True)
    out = d / "bin.partial"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    return out


def _build_wrapped(comp: GoComponent, d: Path) -> None:
    """The CLI: a wrapper module around the pinned one."""
    started, log, src = time.monotonic(), d / "build.log", d / "src"
    info = build.module_info(comp, log)
    src.mkdir(parents=True, exist_ok=True)
    (src / "go.mod").write_text(wrapper_gomod(comp, Path(info["GoMod"]).read_text()))
    (src / "wrapper.go").write_text("// Package wrapper only pins the upstream module.\npackage wrapper\n")
    out = _fresh(d)
    _go_build(comp, src, list(comp.binaries), out, log)
    for pkg, name in comp.binaries.items():
        (out / build.default_binary_name(pkg)).rename(out / name)
    _stamp(comp, d, out, started)


PATCHES = Path(__file__).parent / "patches"
_RUNPLUGIN_ANCHOR = '\tlogging.V(5).Infof("Attempting to run python plugin in %s", req.Program)'


def patch_langhost(main_go: str) -> str:
    """Make the old host's RunPlugin read the policy pack's directory from the newer request field."""
    if _RUNPLUGIN_ANCHOR not in main_go:
        raise ValueError("pulumi-language-python main.go: RunPlugin's first line changed; the patch does not apply")
    return main_go.replace(_RUNPLUGIN_ANCHOR, "\treq = withProgramInfo(req)\n" + _RUNPLUGIN_ANCHOR, 1)


def _build_langhost(comp: GoComponent, d: Path) -> None:
    """The language host, from a patched copy of its package inside a wrapper module."""
    started, log, src = time.monotonic(), d / "build.log", d / "src"
    info = build.module_info(comp, log)
    (pkg,) = comp.binaries
    upstream = Path(info["Dir"]) / pkg.removeprefix(comp.module + "/")
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    (src / "go.mod").write_text(wrapper_gomod(comp, Path(info["GoMod"]).read_text()))
    for f in upstream.glob("*.go"):
        if not f.name.endswith("_test.go"):
            text = f.read_text()
            (src / f.name).write_text(patch_langhost(text) if f.name == "main.go" else text)
    shutil.copyfile(PATCHES / "runplugin_info.go", src / "runplugin_info.go")
    out = _fresh(d)
    _go_build(comp, src, ["."], out, log)
    (out / comp.name).rename(out / comp.binaries[pkg])
    for rel in LANGHOST_SHIMS:
        target = out / Path(rel).name
        shutil.copyfile(Path(info["Dir"]) / rel, target)
        target.chmod(0o755)
    _stamp(comp, d, out, started)


def _build_provider(comp: GoComponent, d: Path, release: str) -> None:
    """The kubernetes provider: writable module copy, ``go generate`` (embedded schema), build."""
    started, log, src = time.monotonic(), d / "build.log", d / "src"
    info = build.module_info(comp, log)
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(info["Dir"], src)
    for p in [src, *src.rglob("*")]:
        p.chmod(p.stat().st_mode | 0o200)
    sdk = comp.module.replace("/provider/v4", "/sdk/v4")
    gomod = src / "go.mod"
    gomod.write_text(pin_local_replaces(gomod.read_text(), {sdk: f"v{release}"}))
    env = build.go_env()
    env.update(VERSION=release, GOSUMDB=env.get("GOSUMDB", "off"), CGO_ENABLED="0")
    (main_pkg,) = comp.binaries
    rel = main_pkg.removeprefix(comp.module + "/")
    build.run_step(f"{comp.name}: go generate", ["go", "generate", "./..."], log, cwd=src / rel, env=env)
    out = _fresh(d)
    _go_build(comp, src, [f"./{rel}"], out, log)
    (out / Path(rel).name).rename(out / comp.binaries[main_pkg])
    _stamp(comp, d, out, started)


def ensure(comp: GoComponent) -> Path:
    """``<cache>/<key>/bin`` of one engine part, building it the first time."""
    d = build.component_dir(comp)
    if build.built(comp):
        return d / "bin"
    if shutil.which("go") is None:
        raise build.BuildError(f"{comp.name}: find go", d / "build.log", "no `go` on PATH")
    with build._locked(d):
        if not build.built(comp):
            if comp is pins.PULUMI_KUBERNETES:
                _build_provider(comp, d, pins.PULUMI_KUBERNETES_RELEASE)
            elif comp is pins.PULUMI_LANGUAGE_PYTHON:
                _build_langhost(comp, d)
            else:
                _build_wrapped(comp, d)
    return d / "bin"


@dataclass(frozen=True)
class Engine:
    pulumi: Path
    provider: Path
    path: tuple[Path, ...]

    def env(self, home: Path, passphrase: str, venv_bin: Path | None = None) -> dict[str, str]:
        """Environment for an offline ``pulumi``: its home, our binaries first on PATH."""
        dirs = [str(p) for p in self.path] + ([str(venv_bin)] if venv_bin else [])
        env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
        env.update(
            PATH=os.pathsep.join([*dirs, os.environ.get("PATH", "")]),
            PULUMI_HOME=str(home),
            PULUMI_SKIP_UPDATE_CHECK="true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
            PULUMI_CONFIG_PASSPHRASE=passphrase,
            PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK="true",
        )
        return env

    def install_provider(self, env: dict[str, str]) -> None:
        """``pulumi plugin install resource kubernetes VERSION --file BINARY`` into ``PULUMI_HOME``."""
        proc = subprocess.run([str(self.pulumi), "plugin", "install", "resource", "kubernetes",
                               pins.PULUMI_KUBERNETES_RELEASE, "--file", str(self.provider)],
                              env=env, capture_output=True, text=True)  # fmt: skip
        if proc.returncode != 0:
            raise RuntimeError(f"pulumi plugin install resource kubernetes failed: {proc.stdout}{proc.stderr}")


def engine() -> Engine:
    dirs = {comp.name: ensure(comp) for comp in pins.PULUMI_COMPONENTS}
    return Engine(
        pulumi=dirs[pins.PULUMI.name] / "pulumi",
        provider=dirs[pins.PULUMI_KUBERNETES.name] / "pulumi-resource-kubernetes",
        path=tuple(dirs.values()),
    )


def timings() -> dict[str, float | None]:
    out = {}
    for comp in pins.PULUMI_COMPONENTS:
        f = build.component_dir(comp) / "timings.json"
        out[comp.key] = json.loads(f.read_text())["build_s"] if f.exists() else None
    return out


def main() -> int:
    try:
        eng = engine()
    except build.BuildError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(json.dumps({"pulumi": str(eng.pulumi), "provider": str(eng.provider), "build_s": timings()}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
