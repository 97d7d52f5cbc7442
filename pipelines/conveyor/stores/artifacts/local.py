"""LocalArtifactStore: a content-addressed folder (default `$CONVEYOR_HOME/artifacts`).

Bytes enter the store by hard link where possible (same filesystem), else by copy, always through a
staging name that is fsynced and then renamed into place — rename is atomic, so a crash leaves at
most garbage in `tmp/`, never a blob or tree that looks complete. Stored files are made read-only,
and `materialize` hard-links them into a task's input folder: artifacts move between tasks without
copying bytes.

`put` takes ownership of what it stores: when it hard-links, the caller's file becomes the stored
blob (and read-only); the caller must not modify it afterwards.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat as stat_mod
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote, urlparse

from conveyor.stores.artifacts.api import (
    ArtifactNotFoundError,
    ArtifactStore,
    ArtifactStoreError,
    StoredArtifact,
)
from conveyor.stores.artifacts.cas import (
    Manifest,
    TreeFile,
    file_digest,
    key_for,
    parse_digest,
    split_key,
    walk_files,
)

PARALLEL_INSTALLS = 16
READ_ONLY = stat_mod.S_IRUSR | stat_mod.S_IRGRP | stat_mod.S_IROTH
_CROSS_DEVICE = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.EACCES, errno.ENOTSUP}


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # some filesystems refuse directory fsync; rename is still atomic
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def link_or_copy(src: Path, dest: Path) -> None:
    """Hard-link src to dest, falling back to a copy across filesystems or where links are refused."""
    try:
        os.link(src, dest)
    except OSError as exc:
        if exc.errno not in _CROSS_DEVICE:
            raise
        shutil.copyfile(src, dest)


class LocalArtifactStore(ArtifactStore):
    def __init__(self, root: str | os.PathLike[str]):
        self.path = Path(root).expanduser().absolute()
        self.root = str(self.path)
        try:
            (self.path / "tmp").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ArtifactStoreError(f"cannot create artifact store at {self.root}: {exc.strerror or exc}") from None

    def __repr__(self) -> str:
        return f"LocalArtifactStore({self.root!r})"

    # -- URIs -----------------------------------------------------------------------------------
    def uri_for(self, digest: str, is_dir: bool = False) -> str:
        return (self.path / key_for(parse_digest(digest), is_dir)).as_uri()

    def _locate(self, uri: str) -> tuple[Path, str, bool]:
        parsed = urlparse(uri)
        path = Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(uri)
        try:
            rel = path.relative_to(self.path).as_posix()
        except ValueError:
            raise ArtifactStoreError(f"artifact {uri} is not inside the artifact store {self.root}") from None
        hexd, is_dir = split_key(rel, uri)
        return path, hexd, is_dir

    # -- writing --------------------------------------------------------------------------------
    def _stage(self) -> Path:
        return self.path / "tmp" / f"{uuid.uuid4().hex}.partial"

    def _install_blob(self, src: Path) -> tuple[str, int]:
        """Bring one file into blobs/ atomically; returns (hex, size) of what was installed."""
        staged = self._stage()
        try:
            link_or_copy(src, staged)
            hexd, size = file_digest(staged)  # hash what is staged, not what was asked for
            os.chmod(staged, READ_ONLY)
            with open(staged, "rb") as f:
                os.fsync(f.fileno())
            final = self.path / key_for(hexd, False)
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists() and file_digest(final)[0] == hexd:
                staged.unlink()  # same content already stored, and intact
            else:  # new, or an existing blob damaged on disk: the fresh bytes replace it
                os.replace(staged, final)
                _fsync_dir(final.parent)
            return hexd, size
        finally:
            with contextlib.suppress(FileNotFoundError):
                staged.unlink()

    def _install_bytes(self, data: bytes, final: Path) -> None:
        staged = self._stage()
        try:
            with open(staged, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(staged, READ_ONLY)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, final)
            _fsync_dir(final.parent)
        finally:
            with contextlib.suppress(FileNotFoundError):
                staged.unlink()

    def put(self, path: str | os.PathLike[str]) -> StoredArtifact:
        src = Path(path)
        if src.is_symlink() or not src.exists():
            raise ArtifactStoreError(f"cannot store {src}: it does not exist or is a symlink")
        try:
            if not src.is_dir():
                hexd, size = self._install_blob(src)
                return StoredArtifact(self.uri_for(f"sha256:{hexd}"), f"sha256:{hexd}", size)
            entries = walk_files(src)
            with ThreadPoolExecutor(PARALLEL_INSTALLS) as pool:  # fsyncs overlap: ~10x on slow disks
                installed = list(pool.map(lambda e: self._install_blob(e[1]), entries))
            files = tuple(TreeFile(rel, h, n) for (rel, _), (h, n) in zip(entries, installed))
            manifest = Manifest(files)
            final = self.path / key_for(manifest.hex, True)
            if not final.exists():  # written last: the tree is complete once this exists
                self._install_bytes(manifest.to_bytes(), final)
            digest = f"sha256:{manifest.hex}"
            return StoredArtifact(self.uri_for(digest, True), digest, manifest.size, is_dir=True)
        except OSError as exc:
            raise ArtifactStoreError(f"cannot store {src} in {self.root}: {exc.strerror or exc}") from None

    # -- reading --------------------------------------------------------------------------------
    def _manifest(self, path: Path, uri: str) -> Manifest:
        try:
            return Manifest.from_bytes(path.read_bytes(), uri)
        except FileNotFoundError:
            raise ArtifactNotFoundError(f"artifact {uri} does not exist") from None

    def stat(self, uri: str) -> StoredArtifact | None:
        path, hexd, is_dir = self._locate(uri)
        if not path.is_file():
            return None
        size = self._manifest(path, uri).size if is_dir else path.stat().st_size
        return StoredArtifact(uri, f"sha256:{hexd}", size, is_dir)

    def materialize(self, uri: str, dest: str | os.PathLike[str]) -> Path:
        path, _, is_dir = self._locate(uri)
        target = Path(dest)
        if not path.is_file():
            raise ArtifactNotFoundError(f"artifact {uri} does not exist in {self.root}")
        try:
            if not is_dir:
                self._place(path, target)
                return target
            manifest = self._manifest(path, uri)
            target.mkdir(parents=True, exist_ok=True)
            for f in manifest.files:
                blob = self.path / key_for(f.hex, False)
                if not blob.is_file():
                    raise ArtifactNotFoundError(f"artifact {uri} is incomplete: file {f.path!r} is missing")
                self._place(blob, target / f.path)
            return target
        except OSError as exc:
            raise ArtifactStoreError(f"cannot materialize {uri} at {target}: {exc.strerror or exc}") from None

    @staticmethod
    def _place(blob: Path, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.partial")
        link_or_copy(blob, tmp)
        os.replace(tmp, dest)

    def verify(self, uri: str, digest: str, deep: bool = False) -> bool:
        path, hexd, is_dir = self._locate(uri)
        if parse_digest(digest) != hexd or not path.is_file():
            return False
        if not is_dir:
            return not deep or file_digest(path)[0] == hexd
        try:
            manifest = self._manifest(path, uri)
        except ArtifactStoreError:
            return False
        if manifest.hex != hexd:
            return False
        for f in manifest.files:
            blob = self.path / key_for(f.hex, False)
            if not blob.is_file() or (deep and file_digest(blob)[0] != f.hex):
                return False
        return True

    # -- removal --------------------------------------------------------------------------------
    def delete(self, uri: str) -> bool:
        """Remove a blob, or a tree's manifest (its blobs may be shared with other trees)."""
        path, _, _ = self._locate(uri)
        try:
            path.unlink()
            return True
        except FileNotFoundError:
            return False

    def clean_staging(self, older_than_s: float = 3600.0) -> int:
        """Remove staging leftovers of puts that crashed; returns how many."""
        cutoff, removed = time.time() - older_than_s, 0
        for p in (self.path / "tmp").iterdir():
            with contextlib.suppress(FileNotFoundError):
                if p.lstat().st_ctime < cutoff:  # ctime: linking bumps it, mtime is the source's
                    p.unlink()
                    removed += 1
        return removed

