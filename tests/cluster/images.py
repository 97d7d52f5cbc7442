"""The images the test cluster needs, made locally (nothing can be pulled here).

* ``pause``: the sandbox image every pod starts with, compiled from the pinned
  Kubernetes module's own ``build/pause/linux/pause.c`` (static, gcc), tagged with
  the reference the containerd config pins (``pins.PAUSE_IMAGE``).
* ``busybox``: a tiny image for the harness's own tests (stdout, TCP to the host),
  from Debian's static ``busybox`` (package ``busybox-static``).

Archives are cached next to the binaries (``<cache>/images``) keyed by the same
pins, so they are made once.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.cluster import build, pins
from tests.cluster.oci import ImageFile, ImageSpec, write_archive

BUSYBOX_IMAGE = "conveyor.test/busybox:static"
BUSYBOX_APPLETS = ("sh", "echo", "cat", "nc", "wget", "ssl_client", "sleep", "env", "ls", "printf")


def images_dir() -> Path:
    d = build.cache_root() / "images"
    d.mkdir(parents=True, exist_ok=True)
    return d


def pause_archive() -> Path:
    """``<cache>/images/pause-<k8s version>.tar``: pause.c from the Kubernetes module, statically linked."""
    comp = pins.KUBERNETES
    out = images_dir() / f"pause-{comp.version}.tar"
    if out.exists():
        return out
    log = build.component_dir(comp) / "images.log"
    src = Path(build.module_info(comp, log)["Dir"]) / "build" / "pause" / "linux" / "pause.c"
    binary = images_dir() / f"pause-{comp.version}.bin"
    if shutil.which("gcc") is None:
        raise build.BuildError("pause: find gcc", log, "gcc is needed to compile build/pause/linux/pause.c")
    build.run_step(
        "pause: gcc -static pause.c",
        ["gcc", "-Os", "-Wall", "-Werror", "-static", f'-DVERSION="{comp.version}-conveyor"', "-o", str(binary), str(src)],
        log,
    )
    spec = ImageSpec(ref=pins.PAUSE_IMAGE, files=(ImageFile(binary, "/pause"),), entrypoint=("/pause",))
    return write_archive(spec, out)


def busybox_archive() -> Path:
    """``<cache>/images/busybox.tar`` from Debian's static busybox (``apt-get install busybox-static``)."""
    out = images_dir() / "busybox.tar"
    if out.exists():
        return out
    binary = Path("/bin/busybox")
    if not binary.exists():
        raise build.BuildError("busybox: find /bin/busybox", images_dir() / "images.log",
                               "install Debian's busybox-static (a static busybox binary)")
    spec = ImageSpec(
        ref=BUSYBOX_IMAGE,
        files=(ImageFile(binary, "/bin/busybox"),),
        entrypoint=(),
        cmd=("/bin/sh",),
        symlinks={f"/bin/{a}": "/bin/busybox" for a in BUSYBOX_APPLETS},
    )
    return write_archive(spec, out)
