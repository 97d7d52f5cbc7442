"""`packages_to_install` locally: check them against this environment, or isolate with uv.

By default a component whose packages are missing or at other versions still runs here, with a
one-line warning: that is what users iterating on a laptop want. `--isolate` runs such components
in a virtualenv per package set, built once with uv and reused across runs. The isolated env sees
the current environment's packages *behind* its own (a .pth file), so conveyor and its
dependencies need no reinstall while the pinned packages win.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import site
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from conveyor.ir.errors import PipelineDefinitionError
from conveyor.ir.spec import ComponentSpec, PipelineSpec


def unmet_requirements(packages: tuple[str, ...] | list[str]) -> list[str]:
    """The requirements this environment does not satisfy, each with what is installed."""
    unmet: list[str] = []
    for text in packages:
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            raise PipelineDefinitionError(f"packages_to_install: {text!r} is not a valid requirement: {exc}") from None
        if req.url:
            unmet.append(f"{text} (a URL requirement cannot be checked)")
            continue
        try:
            installed = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            unmet.append(f"{text} (not installed)")
            continue
        if req.specifier and not req.specifier.contains(installed, prereleases=True):
            unmet.append(f"{text} (installed: {installed})")
    return unmet


def package_report(spec: PipelineSpec) -> dict[str, list[str]]:
    """component name -> unmet requirements, for components that have any."""
    report = {}
    for name, component in spec.components.items():
        unmet = unmet_requirements(component.packages_to_install)
        if unmet:
            report[name] = unmet
    return report


def _uv() -> list[str]:
    found = shutil.which("uv") or (str(Path(sys.prefix) / "bin" / "uv") if (Path(sys.prefix) / "bin" / "uv").exists() else None)
    if found:
        return [found]
    try:
        import uv  # noqa: F401  (the PyPI package ships the binary)

        return [sys.executable, "-m", "uv"]
    except ImportError:
        raise PipelineDefinitionError("--isolate needs uv: `pip install uv`") from None


def venv_key(packages: tuple[str, ...] | list[str]) -> str:
    material = "\n".join(sorted(packages)) + f"\npython={sys.version_info[:3]}\nprefix={sys.prefix}"
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def ensure_venv(component: ComponentSpec, home: Path) -> str:
    """The python of a ready virtualenv for the component's packages; built atomically once."""
    packages = list(component.packages_to_install)
    target = home / "venvs" / venv_key(packages)
    python = target / "bin" / "python"
    if (target / ".ready").exists():
        return str(python)
    staging = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    uv = _uv()
    steps = [
        [*uv, "venv", "--quiet", "--python", sys.executable, str(staging)],
        [*uv, "pip", "install", "--quiet", "--python", str(staging / "bin" / "python"), *packages],
    ]
    for step in steps:
        proc = subprocess.run(step, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            raise PipelineDefinitionError(
                f"component {component.name!r}: could not build an isolated env for {packages}: "
                f"{proc.stderr.strip()[-400:]}")
    # Behind its own packages, the env sees this one's (conveyor and its dependencies).
    own = sorted(staging.glob("lib/python*/site-packages"))[0]
    parents = [p for p in [*site.getsitepackages(), *sys.path] if p and os.path.isdir(p) and "site-packages" in p]
    conveyor_root = str(Path(__file__).resolve().parents[2])
    (own / "zz_conveyor_parent.pth").write_text("\n".join(dict.fromkeys([conveyor_root, *parents])) + "\n")
    (staging / ".ready").write_text("\n".join(packages))
    try:
        staging.rename(target)
    except OSError:  # another run built the same env first: use theirs
        shutil.rmtree(staging, ignore_errors=True)
    return str(python)
