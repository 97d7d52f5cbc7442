"""Write an OCI image archive (image-layout tar) from a few host files.

Nothing can be pulled on the test machine, so every image the cluster runs is
made here and imported with ``ctr -n k8s.io images import``.  The images the
harness needs are tiny (a static ``pause``, a static busybox), so one layer built
with ``tarfile`` is enough; no image builder is required.  The archive carries
the ``io.containerd.image.name`` annotation so ``ctr import`` names the image
with its full reference.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ImageFile:
    """One file of the image: where it lies on the host and where it goes in the image."""

    source: Path
    target: str
    mode: int = 0o755


@dataclass(frozen=True)
class ImageSpec:
    ref: str  # e.g. registry.k8s.io/pause:3.10
    files: tuple[ImageFile, ...]
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...] = ()
    # target -> link name, e.g. {"/bin/sh": "/bin/busybox"}
    symlinks: dict[str, str] = field(default_factory=dict)
    env: tuple[str, ...] = ("PATH=/bin:/usr/bin:/sbin:/usr/sbin",)
    # A numeric user, for workloads whose pods say runAsNonRoot without a runAsUser (the kubelet
    # refuses to start an image that would run as root then).
    user: str = ""


def _add_dirs(tar: tarfile.TarFile, path: str, seen: set[str]) -> None:
    parts = path.strip("/").split("/")[:-1]
    for i in range(1, len(parts) + 1):
        d = "/".join(parts[:i])
        if d not in seen:
            seen.add(d)
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)


def layer_tar(spec: ImageSpec) -> bytes:
    """The uncompressed layer: directories, files and symlinks, owned by root, mtime 0 (reproducible)."""
    buf, seen = io.BytesIO(), set()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in ("tmp/", "etc/", "proc/", "sys/", "dev/"):
            _add_dirs(tar, d + "x", seen)
        for f in spec.files:
            _add_dirs(tar, f.target, seen)
            data = f.source.read_bytes()
            info = tarfile.TarInfo(f.target.lstrip("/"))
            info.size, info.mode = len(data), f.mode
            tar.addfile(info, io.BytesIO(data))
        for link, to in sorted(spec.symlinks.items()):
            _add_dirs(tar, link, seen)
            info = tarfile.TarInfo(link.lstrip("/"))
            info.type, info.linkname = tarfile.SYMTYPE, to
            tar.addfile(info)
    return buf.getvalue()


def _blob(tar: tarfile.TarFile, data: bytes) -> dict:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    info = tarfile.TarInfo("blobs/sha256/" + digest.split(":", 1)[1])
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))
    return {"digest": digest, "size": len(data)}


def write_archive(spec: ImageSpec, out: Path) -> Path:
    """Write ``spec`` as an OCI image-layout tar at ``out`` (atomically) and return it."""
    raw = layer_tar(spec)
    gz = gzip.compress(raw, mtime=0)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Entrypoint": list(spec.entrypoint), "Cmd": list(spec.cmd) or None, "Env": list(spec.env),
                   **({"User": spec.user} if spec.user else {})},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]},
    }
    tmp = out.with_suffix(".partial")
    with tarfile.open(tmp, "w") as tar:
        layer = _blob(tar, gz)
        cfg = _blob(tar, json.dumps(config, sort_keys=True).encode())
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **cfg},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **layer}],
        }
        man = _blob(tar, json.dumps(manifest, sort_keys=True).encode())
        tag = spec.ref.rsplit(":", 1)[1] if ":" in spec.ref.rsplit("/", 1)[-1] else "latest"
        index = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    **man,
                    "platform": {"architecture": "amd64", "os": "linux"},
                    "annotations": {"io.containerd.image.name": spec.ref, "org.opencontainers.image.ref.name": tag},
                }
            ],
        }
        for name, data in (("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", json.dumps(index).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    tmp.replace(out)
    return out


# -- reading: checks any OCI archive (these, and the task images `conveyor image build` writes) --
_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ArchiveImage:
    """What an OCI archive holds: its ref names, the image config and the layer sizes."""

    names: list[str]
    config: dict
    layer_sizes: list[int]
    members: set[str]


def read_archive(path: Path) -> ArchiveImage:
    """Parse an OCI image-layout tar and verify every blob it points to exists with its digest.

    Raises ``ValueError`` naming the missing or mismatching member."""
    with tarfile.open(path) as tar:
        members = {m.name.removeprefix("./") for m in tar.getmembers()}

        def blob(digest: str) -> bytes:
            name = "blobs/" + digest.replace(":", "/")
            if name not in members:
                raise ValueError(f"{path}: {name} is referenced but not in the archive")
            member = tar.getmember(name if name in tar.getnames() else "./" + name)
            data = tar.extractfile(member).read()
            if _digest(data) != digest:
                raise ValueError(f"{path}: {name} does not match its digest")
            return data

        for required in ("oci-layout", "index.json"):
            if required not in members:
                raise ValueError(f"{path}: no {required}; not an OCI image layout")
        index = json.loads(tar.extractfile(tar.getmember(
            "index.json" if "index.json" in tar.getnames() else "./index.json")).read())
        desc = index["manifests"][0]
        manifest = json.loads(blob(desc["digest"]))
        if manifest.get("mediaType", _MANIFEST) != _MANIFEST:
            raise ValueError(f"{path}: manifest media type {manifest.get('mediaType')!r} is not {_MANIFEST}")
        config = json.loads(blob(manifest["config"]["digest"]))
        sizes = [len(blob(layer["digest"])) for layer in manifest["layers"]]
        names = [d.get("annotations", {}).get("io.containerd.image.name")
                 or d.get("annotations", {}).get("org.opencontainers.image.ref.name", "") for d in index["manifests"]]
        return ArchiveImage(names, config, sizes, members)
