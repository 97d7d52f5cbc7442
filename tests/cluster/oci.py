"""A one-layer OCI image archive for static binaries (the harness's argoexec image), and its reader.

Nothing can be pulled here, and a static Go binary needs no base: one gzip layer with the binary,
``/tmp``, a passwd/group pair and the host's CA bundle, written as an OCI image-layout tar that
``ctr -n k8s.io images import``, ``podman load`` and ``skopeo copy oci-archive:`` accept. The layer is
deterministic (mtime 0, sorted, root-owned), so the same binary gives the same digest.
``read_archive`` checks any OCI archive's layout (also the task images ``conveyor image build`` writes).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _layer(files: dict[str, Path]) -> bytes:
    buf = io.BytesIO()
    extra = {"etc/passwd": b"root:x:0:0:root:/root:/sbin/nologin\nargo:x:8737:8737::/home/argo:/sbin/nologin\n",
             "etc/group": b"root:x:0:\nargo:x:8737:\n", "etc/nsswitch.conf": b"hosts: files dns\n"}
    if CA_BUNDLE.exists():
        extra["etc/ssl/certs/ca-certificates.crt"] = CA_BUNDLE.read_bytes()
    entries = {**{k: v for k, v in extra.items()}, **{k: Path(v).read_bytes() for k, v in files.items()}}
    dirs = sorted({str(Path(p).parents[i]) for p in entries for i in range(len(Path(p).parents) - 1)} | {"tmp"})
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in dirs:
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755
            tar.addfile(info)
        for name in sorted(entries):
            data = entries[name]
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755 if name in files else 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def write_image(path: Path, name: str, files: dict[str, Path], entrypoint: list[str]) -> str:
    """Write the archive to ``path`` (atomically) for image ``name``; returns the manifest digest."""
    raw = _layer(files)
    gz = gzip.compress(raw, compresslevel=6, mtime=0)
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Entrypoint": entrypoint, "Env": [PATH_ENV], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [_digest(raw)]},
        "history": [{"created_by": "conveyor tests/cluster/oci.py", "created": "1970-01-01T00:00:00Z"}],
    }, sort_keys=True).encode()  # fmt: skip
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": MANIFEST,
        "config": {"mediaType": CONFIG, "digest": _digest(config), "size": len(config)},
        "layers": [{"mediaType": LAYER_GZIP, "digest": _digest(gz), "size": len(gz)}],
    }, sort_keys=True).encode()  # fmt: skip
    index = json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": MANIFEST, "digest": _digest(manifest), "size": len(manifest),
        "annotations": {"org.opencontainers.image.ref.name": name, "io.containerd.image.name": name},
    }]}).encode()  # fmt: skip
    tmp = path.with_suffix(".tmp")
    with tarfile.open(tmp, "w") as tar:
        for member, data in [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", index),
                             *[(f"blobs/sha256/{_digest(b)[7:]}", b) for b in (gz, config, manifest)]]:
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    tmp.replace(path)
    return _digest(manifest)


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
        if manifest.get("mediaType", MANIFEST) != MANIFEST:
            raise ValueError(f"{path}: manifest media type {manifest.get('mediaType')!r} is not {MANIFEST}")
        config = json.loads(blob(manifest["config"]["digest"]))
        sizes = [len(blob(layer["digest"])) for layer in manifest["layers"]]
        names = [d.get("annotations", {}).get("org.opencontainers.image.ref.name", "") for d in index["manifests"]]
        return ArchiveImage(names, config, sizes, members)
