"""`conveyor image build`: parse, call ``conveyor.images.build``, render."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from conveyor.cli import render
from conveyor.cli.app import JsonOpt, app, friendly
from conveyor.cli.cluster_cmds import ProfileOpt, StackOpt, Target, _profile

image_app = typer.Typer(no_args_is_help=True, help="Task images: the runtime plus the components' packages.")
app.add_typer(image_app, name="image")


@image_app.command("build")
@friendly
def build_cmd(
    target: Target, profile: ProfileOpt = None, stack: StackOpt = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="OCI archive path "
                                                "(default: $CONVEYOR_HOME/images/<tag>.oci.tar).")] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="Image reference (default: the one the compiler "
                                            "names under the profile's image_registry).")] = None,
    base: Annotated[str | None, typer.Option("--base", help="Base image with python (default: a Debian "
                                             "bookworm rootfs bootstrapped here).")] = None,
    python_version: Annotated[str | None, typer.Option("--python-version", help="The base's Python X.Y "
                                                       "(with --base; default 3.11).")] = None,
    builder: Annotated[str | None, typer.Option("--builder", help="buildah or podman (default: first found).")] = None,
    push: Annotated[bool, typer.Option("--push", help="Push to the profile's image_registry.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Build the image this pipeline's pods run (OCI archive; --push sends it to the registry)."""
    from conveyor.images.build import build_image
    from conveyor.profile import conveyor_home
    from conveyor.runtime.loader import find_pipeline

    prof = _profile(profile, stack, required=push or tag is None)
    path, _, name = target.partition(":")
    spec = find_pipeline(path, name or None).pipeline_spec
    registry = getattr(prof, "image_registry", None)
    if output is None:
        from conveyor.compiler.argo.images import task_image

        output = conveyor_home() / "images" / f"{(tag or task_image(spec, registry)).rsplit(':', 1)[-1]}.oci.tar"
    built = build_image(spec, registry, output, ref=tag, base=base, python_version=python_version,
                        builder=builder, push=push)
    if as_json:
        render.print_json(built.to_dict())
    else:
        render.console.print(f"built [bold]{built.ref}[/] with {built.builder} in {built.seconds:.0f}s: "
                             f"{built.archive} ({built.archive_bytes / 1e6:.0f} MB)"
                             + (" and pushed it" if built.pushed else ""), highlight=False)
