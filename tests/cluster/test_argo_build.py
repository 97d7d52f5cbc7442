"""The Argo build from the Go module proxy: versioned binaries and an importable argoexec image."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.cluster import pins
from tests.cluster.oci import read_archive

# The module's first test pays a cold build (Go or debootstrap: minutes on 2 cores, longer beside CI's
# background prebuild, whose lock it may wait on); the suite's 300 s per-test limit is for tests, not builds.
pytestmark = pytest.mark.timeout(1800)


@pytest.fixture(scope="module")
def argo():
    from tests.cluster.argo_build import BuildError, build

    if shutil.which("go") is None:
        pytest.skip("Go is not installed; the Argo binaries cannot be built")
    try:
        return build()
    except BuildError as exc:
        pytest.fail(str(exc))


@pytest.mark.parametrize("binary", ["argo", "workflow-controller", "argoexec"])
def test_binaries_report_the_pinned_version(argo, binary):
    out = subprocess.run([str(argo.bin / binary), "version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert pins.ARGO.version in out.stdout + out.stderr


def test_argoexec_image_is_an_oci_archive_with_the_binary(argo):
    image = read_archive(argo.argoexec_image)
    assert image.names == [pins.ARGOEXEC_IMAGE]
    assert image.config["config"]["Entrypoint"] == ["argoexec"]
    assert len(image.layer_sizes) == 1 and image.layer_sizes[0] > 10_000_000


def test_crds_are_in_the_build(argo):
    crds = sorted(p.name for p in (argo.manifests / "base" / "crds").rglob("*.yaml"))
    assert any("argoproj.io_workflows" in n for n in crds), crds
