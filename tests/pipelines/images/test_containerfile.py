"""The task image's Containerfile and the errors raised before any builder runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conveyor import dsl
from conveyor.cli.app import app
from conveyor.compiler.argo.images import ImageConfigError, pipeline_packages
from conveyor.images import containerfile
from conveyor.images.build import build_image, find_builder
from conveyor.images.errors import ImageBuildError


@dsl.component(packages_to_install=["pandas>=2", "six==1.16.0"])
def a(x: int) -> int:
    return x


@dsl.component(packages_to_install=["six==1.16.0"])
def b(x: int) -> int:
    return x


@dsl.component(base_image="python:3.12-slim", packages_to_install=["torch"])
def own(x: int) -> int:
    return x


@dsl.component(packages_to_install=["not a requirement!!"])
def bad(x: int) -> int:
    return x


@dsl.pipeline(name="pkgs")
def pkgs():
    own(x=b(x=a(x=1).output).output)


@dsl.pipeline(name="bad-pkgs")
def bad_pkgs():
    bad(x=1)


def test_packages_are_the_sorted_union_without_own_base_images():
    assert pipeline_packages(pkgs.pipeline_spec) == ("pandas>=2", "six==1.16.0")


def test_invalid_requirement_names_the_component():
    with pytest.raises(ImageConfigError, match=r"component 'bad': packages_to_install entry 'not a requirement!!'"):
        pipeline_packages(bad_pkgs.pipeline_spec)


def test_containerfile_from_bootstrapped_rootfs():
    text = containerfile.render(None, ("pandas>=2",), "0.1.0")
    lines = text.splitlines()
    assert lines[:4] == ["FROM scratch", "ADD base-rootfs.tar /", "COPY site/ /opt/conveyor/site/",
                         "ENV PYTHONPATH=/opt/conveyor/site PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1"]
    assert f"LABEL dev.conveyor.packages={json.dumps(json.dumps(['pandas>=2']))}" in lines
    assert "pip" not in text.replace("pipeline", "")  # nothing installed by the builder or at pod start


def test_containerfile_from_base_image():
    assert containerfile.render("python:3.11-slim", (), "0.1.0").startswith("FROM python:3.11-slim\nCOPY site/")


@pytest.mark.parametrize("base", ["", "python 3.11"])
def test_bad_base_image(base):
    with pytest.raises(ImageBuildError, match="step 'containerfile' failed: base image"):
        containerfile.render(base, (), "0.1.0")


def test_unknown_builder():
    with pytest.raises(ImageBuildError, match="builder 'docker' is not one of buildah, podman"):
        find_builder("docker")


def test_no_registry_and_no_tag_fails_before_building(tmp_path):
    with pytest.raises(ImageConfigError, match="no task image: the profile has no image_registry"):
        build_image(pkgs.pipeline_spec, None, tmp_path / "x.tar")
    with pytest.raises(ImageBuildError, match="--push needs the profile's image_registry"):
        build_image(pkgs.pipeline_spec, None, tmp_path / "x.tar", ref="r.local/x:1", push=True)
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_cli_without_profile_is_one_line_exit_2(tmp_path):
    result = CliRunner().invoke(app, ["image", "build", f"{Path(__file__)}:pkgs", "-o", str(tmp_path / "x.tar")])
    assert result.exit_code == 2 and "no profile" in result.output
    assert not (tmp_path / "x.tar").exists()
