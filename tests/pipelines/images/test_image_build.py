"""A real task image: buildah builds it from the bootstrapped Debian rootfs, and the runtime runs in it.

Slow the first time on a machine (debootstrap of the base, ~15 min on 2 shared cores; cached after),
then ~1-2 min. Skips with the reason where buildah, debootstrap, root or uv is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conveyor.cli.app import app
from tests.cluster.oci import read_archive

# The module's first test pays a cold build (Go or debootstrap: minutes on 2 cores, longer beside CI's
# background prebuild, whose lock it may wait on); the suite's 300 s per-test limit is for tests, not builds.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

PIPELINE = '''
from conveyor import dsl

@dsl.component(packages_to_install=["six==1.16.0"])
def hello(x: int) -> int:
    import six
    return x + len(six.__version__)

@dsl.pipeline(name="image-probe")
def probe():
    hello(x=1)
'''


def _missing() -> str | None:
    for tool in ("buildah", "debootstrap"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install {tool})"
    if os.geteuid() != 0:
        return "debootstrap and buildah here need root"
    return None


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if reason := _missing():
        pytest.skip(reason)
    tmp = tmp_path_factory.mktemp("image")
    (tmp / "probe.py").write_text(PIPELINE)
    (tmp / "profile.json").write_text('{"artifact_root": "file:///tmp/x", "metadata_url": "sqlite:///x.db", '
                                      '"image_registry": "registry.test/conveyor"}')
    result = CliRunner().invoke(app, ["image", "build", str(tmp / "probe.py"), "--profile", str(tmp / "profile.json"),
                                      "-o", str(tmp / "probe.oci.tar"), "--json"])
    assert result.exit_code == 0, result.output
    import json

    return json.loads(result.stdout)


def test_archive_is_an_oci_image_layout_with_the_compiler_s_name(built):
    from conveyor.compiler.argo.images import task_image
    from conveyor.runtime.loader import find_pipeline

    archive = read_archive(Path(built["archive"]))
    assert {"oci-layout", "index.json"} <= archive.members
    assert archive.names == [built["ref"]]
    spec = find_pipeline(Path(built["archive"]).with_name("probe.py")).pipeline_spec
    assert built["ref"] == task_image(spec, "registry.test/conveyor")
    assert archive.layer_sizes and all(size > 0 for size in archive.layer_sizes)
    assert "PYTHONPATH=/opt/conveyor/site" in archive.config["config"]["Env"]
    assert archive.config["config"]["Labels"]["dev.conveyor.packages"] == '["six==1.16.0"]'


def test_runtime_and_packages_run_inside_the_image(built):
    ctr = subprocess.run(["buildah", "from", built["ref"]], capture_output=True, text=True, check=True).stdout.strip()
    try:
        def run(*argv):
            # chroot isolation: Debian's runc 1.1.5 cannot create containers on this kernel ("did not get
            # container create message from subprocess: EOF"); the image's own rootfs and env still apply.
            return subprocess.run(["buildah", "run", "--isolation", "chroot", ctr, "--", *argv], capture_output=True,
                                  text=True, timeout=120)

        ok = run("python", "-c", "import sys, six, conveyor.runtime.pod, psycopg, boto3; print(sys.version_info[:2])")
        assert ok.returncode == 0 and ok.stdout.strip() == "(3, 11)", ok.stderr
        usage = run("python", "-m", "conveyor.runtime.pod")  # the pod entrypoint itself, without its argv
        assert usage.returncode == 3 and "the following arguments are required: --spec" in usage.stdout + usage.stderr
        assert run("python", "-m", "pip", "--version").returncode != 0  # no installer in the image
    finally:
        subprocess.run(["buildah", "rm", ctr], capture_output=True, check=False)
