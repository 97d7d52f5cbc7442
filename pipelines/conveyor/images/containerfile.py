"""The Containerfile of a task image: a base, the runtime and the packages, nothing run at pod start.

The runtime wheel and the pipeline's ``packages_to_install`` are resolved on the build host into
one ``site/`` directory for the base's Python (``uv pip install --target``), so the image needs no
pip, no network during the build and no install step at pod start. The base is either an image
reference or the bootstrapped rootfs tarball (``FROM scratch`` + ``ADD``).
"""

from __future__ import annotations

import json

from conveyor.images.errors import ImageBuildError

SITE = "/opt/conveyor/site"
BASE_TARBALL = "base-rootfs.tar"


def render(base: str | None, packages: tuple[str, ...], runtime_version: str) -> str:
    """``base`` None: FROM scratch + the rootfs tarball in the context as ``base-rootfs.tar``."""
    if base is not None and (not base.strip() or any(c.isspace() for c in base)):
        raise ImageBuildError("containerfile", f"base image {base!r} is not an image reference")
    lines = ["FROM scratch", f"ADD {BASE_TARBALL} /"] if base is None else [f"FROM {base}"]
    labels = {"dev.conveyor.runtime": runtime_version, "dev.conveyor.packages": json.dumps(list(packages))}
    lines += [
        f"COPY site/ {SITE}/",
        f"ENV PYTHONPATH={SITE} PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1",
        *(f"LABEL {k}={json.dumps(v)}" for k, v in labels.items()),
    ]
    return "\n".join(lines) + "\n"
