"""The OCI archives the cluster imports are well-formed: digests, diff ids, annotations, files."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile

from tests.cluster.oci import ImageFile, ImageSpec, write_archive


def _blobs(tar: tarfile.TarFile) -> dict[str, bytes]:
    return {m.name.rsplit("/", 1)[1]: tar.extractfile(m).read() for m in tar.getmembers()
            if m.name.startswith("blobs/sha256/")}


def test_archive_is_a_valid_image_layout(tmp_path):
    exe = tmp_path / "tool"
    exe.write_bytes(b"\x7fELF-not-really")
    spec = ImageSpec(ref="conveyor.test/tool:1", files=(ImageFile(exe, "/bin/tool"),), entrypoint=("/bin/tool",),
                     symlinks={"/bin/alias": "/bin/tool"})
    out = write_archive(spec, tmp_path / "tool.tar")
    with tarfile.open(out) as tar:
        index = json.loads(tar.extractfile("index.json").read())
        layout = json.loads(tar.extractfile("oci-layout").read())
        blobs = _blobs(tar)
    assert layout == {"imageLayoutVersion": "1.0.0"}
    for digest, data in blobs.items():
        assert hashlib.sha256(data).hexdigest() == digest
    (entry,) = index["manifests"]
    assert entry["annotations"]["io.containerd.image.name"] == "conveyor.test/tool:1"
    assert entry["annotations"]["org.opencontainers.image.ref.name"] == "1"
    manifest = json.loads(blobs[entry["digest"].split(":")[1]])
    config = json.loads(blobs[manifest["config"]["digest"].split(":")[1]])
    assert config["config"]["Entrypoint"] == ["/bin/tool"]
    layer = gzip.decompress(blobs[manifest["layers"][0]["digest"].split(":")[1]])
    assert config["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(layer).hexdigest()]
    with tarfile.open(fileobj=io.BytesIO(layer)) as lt:
        members = {m.name: m for m in lt.getmembers()}
        assert lt.extractfile("bin/tool").read() == exe.read_bytes()
    assert members["bin/tool"].mode == 0o755 and members["bin/tool"].uid == 0
    assert members["bin/alias"].issym() and members["bin/alias"].linkname == "/bin/tool"
    assert members["tmp"].isdir()


def test_archive_is_reproducible(tmp_path):
    exe = tmp_path / "tool"
    exe.write_bytes(b"same")
    spec = ImageSpec(ref="conveyor.test/tool:1", files=(ImageFile(exe, "/tool"),), entrypoint=("/tool",))
    a = write_archive(spec, tmp_path / "a.tar").read_bytes()
    b = write_archive(spec, tmp_path / "b.tar").read_bytes()
    assert hashlib.sha256(a).digest() == hashlib.sha256(b).digest()
