"""Content addressing shared by every artifact store: digests, tree manifests and the object layout.

Layout under a store's root (identical locally, on S3 and on GCS):
    blobs/sha256/<hex>   one file's bytes, keyed by their sha256
    trees/sha256/<hex>   a directory: a JSON manifest of (relative path, file digest, size),
                         keyed by the tree digest; its files live in blobs/ (shared, deduplicated)
A tree manifest is written only after all its blobs, so a manifest's presence means the whole
directory is stored — an interrupted upload leaves no tree that looks complete.

Tree digest: sha256 over "<posix relpath>\\0<file hex>\\n" for every file, sorted by relpath.
It ignores mtimes, modes and empty directories, so equal content always gives an equal digest.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from conveyor.stores.artifacts.api import ArtifactStoreError

CHUNK = 1 << 20
_HEX = re.compile(r"^[0-9a-f]{64}$")
BLOBS = "blobs/sha256"
TREES = "trees/sha256"


def parse_digest(digest: str) -> str:
    """The hex part of "sha256:<hex>"; ArtifactStoreError for anything else."""
    algo, _, hexpart = str(digest).partition(":")
    if algo != "sha256" or not _HEX.match(hexpart):
        raise ArtifactStoreError(f"digest {digest!r} is not of the form sha256:<64 lowercase hex>")
    return hexpart


def hash_chunks(chunks: Iterable[bytes]) -> tuple[str, int]:
    h, size = hashlib.sha256(), 0
    for chunk in chunks:
        h.update(chunk)
        size += len(chunk)
    return h.hexdigest(), size


def read_chunks(path: str | os.PathLike[str]) -> Iterable[bytes]:
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


def file_digest(path: str | os.PathLike[str]) -> tuple[str, int]:
    """(hex, size) of one file."""
    return hash_chunks(read_chunks(path))


@dataclass(frozen=True)
class TreeFile:
    path: str  # POSIX, relative, normalised
    hex: str
    size: int


@dataclass(frozen=True)
class Manifest:
    files: tuple[TreeFile, ...]

    @property
    def hex(self) -> str:
        h = hashlib.sha256()
        for f in self.files:
            h.update(f"{f.path}\0{f.hex}\n".encode())
        return h.hexdigest()

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    def to_bytes(self) -> bytes:
        body = {"version": 1, "digest": f"sha256:{self.hex}",
                "files": [{"path": f.path, "digest": f"sha256:{f.hex}", "size": f.size} for f in self.files]}
        return json.dumps(body, sort_keys=True, indent=1).encode()

    @classmethod
    def from_bytes(cls, data: bytes, where: str) -> Manifest:
        try:
            body = json.loads(data)
            files = tuple(TreeFile(safe_relpath(f["path"], where), parse_digest(f["digest"]), int(f["size"]))
                          for f in body["files"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ArtifactStoreError(f"tree manifest {where} is malformed: {exc}") from None
        return cls(tuple(sorted(files, key=lambda f: f.path)))


def safe_relpath(path: str, where: str) -> str:
    """Reject absolute paths and `..` so a manifest can never write outside its destination."""
    p = PurePosixPath(path)
    if p.is_absolute() or ".." in p.parts or not p.parts or str(p) != path:
        raise ArtifactStoreError(f"tree manifest {where} holds an unsafe path {path!r}")
    return path


def walk_files(root: Path) -> list[tuple[str, Path]]:
    """Sorted (relpath, path) of every regular file under root; symlinks are refused, not followed."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in list(dirnames) + filenames:
            full = Path(dirpath, name)
            if full.is_symlink():
                raise ArtifactStoreError(f"artifact {root} contains a symlink {full}; store real files only")
        for name in filenames:
            full = Path(dirpath, name)
            out.append((full.relative_to(root).as_posix(), full))
    return sorted(out)


def tree_manifest(root: Path) -> Manifest:
    files = []
    for rel, full in walk_files(root):
        hexd, size = file_digest(full)
        files.append(TreeFile(rel, hexd, size))
    return Manifest(tuple(files))


def digest_path(path: str | os.PathLike[str]) -> tuple[str, int, bool]:
    """("sha256:<hex>", size, is_dir) of a file or directory, as a store would record it."""
    p = Path(path)
    if p.is_symlink() or not p.exists():
        raise ArtifactStoreError(f"artifact path {p} does not exist or is a symlink")
    if p.is_dir():
        m = tree_manifest(p)
        return f"sha256:{m.hex}", m.size, True
    hexd, size = file_digest(p)
    return f"sha256:{hexd}", size, False


def key_for(hexd: str, is_dir: bool) -> str:
    return f"{TREES if is_dir else BLOBS}/{hexd}"


def split_key(rel: str, where: str) -> tuple[str, bool]:
    """(hex, is_dir) for a key relative to the root, e.g. "blobs/sha256/<hex>"."""
    for prefix, is_dir in ((BLOBS, False), (TREES, True)):
        if rel.startswith(prefix + "/") and _HEX.match(rel[len(prefix) + 1:]):
            return rel[len(prefix) + 1:], is_dir
    raise ArtifactStoreError(f"{where} is not a content-addressed artifact URI of this store "
                             f"(expected …/{BLOBS}/<hex> or …/{TREES}/<hex>)")
