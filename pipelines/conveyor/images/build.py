"""`conveyor image build`: the image a pipeline's pods run, built with buildah or podman.

Steps (each failure names its step and log): the runtime wheel from the conveyor source tree,
the runtime + ``packages_to_install`` resolved into ``site/`` on the host with uv for the base's
Python, the base (an image, or the cached debootstrap rootfs when nothing can be pulled), the
Containerfile (``containerfile.render``), the builder, then an OCI archive (``oci-archive``: what
``skopeo``/``ctr import``/``podman load`` read) and, with ``push``, the profile's registry.
The tag is the one the compiler names (``conveyor.compiler.argo.images.task_image``).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from conveyor.compiler.argo.images import pipeline_packages, runtime_version, task_image
from conveyor.images import containerfile
from conveyor.images.base import build_base, image_cache, run_step
from conveyor.images.errors import ImageBuildError
from conveyor.ir import PipelineSpec

BUILDERS = ("buildah", "podman")
PLATFORM = "x86_64-manylinux_2_36"  # bookworm's glibc


@dataclass(frozen=True)
class BuiltImage:
    ref: str
    archive: Path
    archive_bytes: int
    packages: tuple[str, ...]
    builder: str
    seconds: float
    base_seconds: float
    pushed: bool

    def to_dict(self) -> dict:
        return {"ref": self.ref, "archive": str(self.archive), "archive_bytes": self.archive_bytes,
                "packages": list(self.packages), "builder": self.builder, "seconds": self.seconds,
                "base_seconds": self.base_seconds, "pushed": self.pushed}


def find_builder(preferred: str | None = None) -> str:
    names = (preferred,) if preferred else BUILDERS
    for name in names:
        if name not in BUILDERS:
            raise ImageBuildError("builder", f"builder {name!r} is not one of {', '.join(BUILDERS)}")
        if shutil.which(name):
            return name
    raise ImageBuildError("builder", f"none of {', '.join(names)} is on PATH (Debian: apt-get install buildah)")


def runtime_source() -> Path:
    """The conveyor source tree (pyproject.toml of conveyor-ml) this runtime was imported from."""
    for parent in Path(__file__).resolve().parents:
        pyproject = parent / "pyproject.toml"
        if pyproject.exists() and 'name = "conveyor-ml"' in pyproject.read_text():
            return parent
    raise ImageBuildError("runtime wheel", "conveyor is not installed from a source tree; pass --runtime-wheel")


def _uv() -> str:
    found = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    if not Path(found).exists():
        raise ImageBuildError("install packages", "uv is not on PATH (pip install uv)")
    return found


def build_image(spec: PipelineSpec, registry: str | None, output: Path, *, ref: str | None = None,
                base: str | None = None, python_version: str | None = None, builder: str | None = None,
                runtime_wheel: Path | None = None, push: bool = False) -> BuiltImage:
    """Build ``spec``'s task image into the OCI archive ``output``; ``push`` sends it to ``registry``."""
    start = time.monotonic()
    packages = pipeline_packages(spec)
    ref = ref or task_image(spec, registry)
    if push and not registry:
        raise ImageBuildError("push", "--push needs the profile's image_registry")
    tool = find_builder(builder)
    logs = image_cache() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"build-{ref.rsplit(':', 1)[-1]}.log"
    log.write_text(f"image {ref}\n")
    base_seconds = 0.0
    with tempfile.TemporaryDirectory(prefix="conveyor-image-") as tmp:
        ctx = Path(tmp)
        if runtime_wheel is None:
            run_step("runtime wheel", [_uv(), "build", "--wheel", "--out-dir", str(ctx / "wheels"), str(runtime_source())], log)
            runtime_wheel = next((ctx / "wheels").glob("conveyor_ml-*.whl"))
        if base is None:
            rootfs = build_base()
            base_seconds, python_version = rootfs.seconds, python_version or rootfs.python_version
            _link_or_copy(rootfs.tarball, ctx / containerfile.BASE_TARBALL)
        requirements = [f"conveyor-ml[pod] @ {Path(runtime_wheel).resolve().as_uri()}", *packages]
        run_step("install packages", [_uv(), "pip", "install", "--quiet", "--target", str(ctx / "site"),
                                  "--python-version", python_version or "3.11", "--python-platform", PLATFORM,
                                  "--no-build", *requirements], log)
        (ctx / "Containerfile").write_text(containerfile.render(base, packages, runtime_version()))
        if tool == "buildah":
            run_step("build", ["buildah", "bud", "--layers=false", "-f", str(ctx / "Containerfile"), "-t", ref, str(ctx)], log)
        else:
            run_step("build", ["podman", "build", "-f", str(ctx / "Containerfile"), "-t", ref, str(ctx)], log)
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    partial.unlink(missing_ok=True)
    if tool == "buildah":
        run_step("oci archive", ["buildah", "push", ref, f"oci-archive:{partial}:{ref}"], log)
    else:
        run_step("oci archive", ["podman", "save", "--format", "oci-archive", "-o", str(partial), ref], log)
    partial.replace(output)
    if push:
        run_step("push", [tool, "push", ref, f"docker://{ref}"], log)
    return BuiltImage(ref, output, output.stat().st_size, packages, tool, round(time.monotonic() - start, 1),
                      base_seconds, push)


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)
