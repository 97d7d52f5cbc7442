"""Which task image a pipeline's pods run: the compiler names it, ``conveyor image build`` builds that name.

A pipeline's image holds the conveyor runtime plus the union of its components'
``packages_to_install`` (components with their own ``base_image`` bring their own image and are
left out). Its tag is derived from what goes in - the runtime version and the sorted package list -
so the compiler can name it without building anything, two pipelines with the same packages share
one image, and changing a package names a new image instead of silently reusing an old one:
``<image_registry>/conveyor-task:<version>-<12 hex>``.
"""

from __future__ import annotations

import hashlib
import json

from packaging.requirements import InvalidRequirement, Requirement

from conveyor.compiler.argo.options import RUNTIME_DIST
from conveyor.ir import PipelineSpec

REPOSITORY = "conveyor-task"


class ImageConfigError(ValueError):
    """No usable image can be named for a pipeline; the message says what to set."""


def runtime_version() -> str:
    """The installed runtime's version (the distribution's metadata: ``conveyor`` itself sits above us)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(RUNTIME_DIST)
    except PackageNotFoundError:
        return "0+unknown"


def pipeline_packages(spec: PipelineSpec) -> tuple[str, ...]:
    """The sorted, de-duplicated ``packages_to_install`` of every component on the pipeline image.

    Raises ``ImageConfigError`` naming the component for a requirement pip would reject."""
    found: set[str] = set()
    for name, component in sorted(spec.components.items()):
        if component.base_image:
            continue
        for text in component.packages_to_install:
            try:
                req = Requirement(text)
            except InvalidRequirement as exc:
                raise ImageConfigError(
                    f"pipeline {spec.name!r}, component {name!r}: packages_to_install entry {text!r} "
                    f"is not a valid requirement: {exc}") from None
            if req.url:
                raise ImageConfigError(
                    f"pipeline {spec.name!r}, component {name!r}: packages_to_install entry {text!r} is a "
                    "direct URL; task images install only from the package index")
            found.add(str(req))
    return tuple(sorted(found))


def image_tag(packages: tuple[str, ...], version: str | None = None) -> str:
    version = version or runtime_version()
    digest = hashlib.sha256(json.dumps([RUNTIME_DIST, version, list(packages)]).encode()).hexdigest()
    return f"{version}-{digest[:12]}"


def needs_task_image(spec: PipelineSpec) -> bool:
    """Whether some component runs the task image (the rest name their own ``base_image``)."""
    return not all(c.base_image for c in spec.components.values())


def task_image(spec: PipelineSpec, registry: str | None) -> str:
    """``<registry>/conveyor-task:<tag>`` for ``spec``; a clear error when there is no registry."""
    if not registry or not registry.strip():
        raise ImageConfigError(
            f"pipeline {spec.name!r}: no task image: the profile has no image_registry; set it (where "
            "`conveyor image build --push` sends images) or pass an explicit image (--image REF)")
    registry = registry.strip().rstrip("/")
    if "://" in registry or any(c.isspace() for c in registry):
        raise ImageConfigError(f"image_registry {registry!r} must be a registry path like "
                               "'registry.example.com/team' (no scheme, no spaces)")
    return f"{registry}/{REPOSITORY}:{image_tag(pipeline_packages(spec))}"
