"""`dsl.EmbeddedInput[T]` with `@dsl.component(embedded_artifact_path=...)`: a file or folder shipped
inside the component itself (kfp 2.15+).

The asset is packed when the component is defined (a gzip'd tar, base64, as kfp embeds it in the
component's source) and travels in the spec, so a local task and an Argo pod unpack the same bytes.
Parameters annotated `EmbeddedInput[T]` are not inputs a caller passes: the task hands each one an
artifact whose `.path` is the unpacked file (or folder).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import tarfile
from pathlib import Path

from pydantic import Field

from conveyor.ir.base import Frozen


class EmbeddedArtifact(Frozen):
    archive: str  # base64 of a gzip'd tar
    file_name: str | None = None  # set when the asset is one file: `.path` points at it, not the folder
    inputs: dict[str, str] = Field(default_factory=dict)  # parameter name -> artifact type
    digest: str

    @classmethod
    def pack(cls, path: str | Path, inputs: dict[str, str]) -> EmbeddedArtifact:
        """ValueError when the path does not exist (kfp raises the same at decoration time)."""
        asset = Path(path)
        if not asset.exists():
            raise ValueError(f"embedded_artifact_path does not exist: {path}")
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            tar.add(asset, arcname="." if asset.is_dir() else asset.name)
        data = gzip.compress(buf.getvalue(), mtime=0)
        return cls(archive=base64.b64encode(data).decode("ascii"), file_name=None if asset.is_dir() else asset.name,
                   inputs=inputs, digest=_content_digest(asset))

    def unpack(self, dest: str | Path) -> Path:
        """Extract into `dest` (once per attempt); the path each EmbeddedInput artifact gets."""
        target = Path(dest)
        if not target.exists():
            target.mkdir(parents=True)
            raw = gzip.decompress(base64.b64decode(self.archive))
            with tarfile.open(fileobj=io.BytesIO(raw), mode="r") as tar:
                tar.extractall(target, filter="data")
        return target / self.file_name if self.file_name else target


def _content_digest(asset: Path) -> str:
    """Names and bytes only (not mtimes), so the cache key changes exactly when the asset does."""
    files = sorted(p for p in asset.rglob("*") if p.is_file()) if asset.is_dir() else [asset]
    h = hashlib.sha256()
    for file in files:
        rel = file.relative_to(asset).as_posix() if asset.is_dir() else file.name
        h.update(rel.encode() + b"\0" + hashlib.sha256(file.read_bytes()).digest())
    return "sha256:" + h.hexdigest()
