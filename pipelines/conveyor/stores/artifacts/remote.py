"""The object-store half shared by S3 and GCS: the CAS layout, put/materialize/verify logic.

Backends supply seven primitives on keys (head, upload file/bytes, download, read, stream, delete)
and this class does the rest, so S3 and GCS behave identically. Every object carries its sha256 in
object metadata ("sha256"); a tree's manifest is uploaded only after all its blobs, and downloads
are re-hashed before they are handed over, so a corrupted or partial object is never used.
"""

from __future__ import annotations

import abc
import contextlib
import hashlib
import os
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

from conveyor.stores.artifacts.api import (
    ArtifactNotFoundError,
    ArtifactStore,
    ArtifactStoreError,
    DigestMismatchError,
    StoredArtifact,
)
from conveyor.stores.artifacts.cas import (
    Manifest,
    TreeFile,
    file_digest,
    hash_chunks,
    key_for,
    parse_digest,
    split_key,
    walk_files,
)

T = TypeVar("T")
META_KEY = "sha256"
PARALLEL_FILES = 8
EMPTY_HEX = hashlib.sha256(b"").hexdigest()


class ObjectArtifactStore(ArtifactStore):
    scheme: str

    def __init__(self, root: str):
        parsed = urlparse(root)
        if parsed.scheme != self.scheme or not parsed.netloc:
            raise ArtifactStoreError(f"artifact root {root!r} is not a {self.scheme}://BUCKET[/PREFIX] URI")
        self.bucket = parsed.netloc
        self.prefix = parsed.path.strip("/")
        self.root = f"{self.scheme}://{self.bucket}" + (f"/{self.prefix}" if self.prefix else "")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.root!r})"

    # -- backend primitives ---------------------------------------------------------------------
    @abc.abstractmethod
    def _head(self, key: str) -> tuple[int, str | None] | None:
        """(size, recorded sha256 hex) of an existing object, or None."""

    @abc.abstractmethod
    def _upload_file(self, path: Path, key: str, hexd: str, size: int) -> None: ...

    @abc.abstractmethod
    def _upload_bytes(self, data: bytes, key: str, hexd: str) -> None: ...

    @abc.abstractmethod
    def _download_file(self, key: str, dest: Path) -> None: ...

    @abc.abstractmethod
    def _read_bytes(self, key: str) -> bytes: ...

    @abc.abstractmethod
    def _stream(self, key: str) -> Iterable[bytes]: ...

    @abc.abstractmethod
    def _delete(self, key: str) -> bool: ...

    @abc.abstractmethod
    def _describe(self, exc: BaseException) -> str | None:
        """A one-line cause for a backend exception, or None if it is not one of the backend's."""

    def _guard(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except ArtifactStoreError:
            raise
        except OSError as exc:
            raise ArtifactStoreError(f"{what}: {exc.strerror or exc}") from None
        except Exception as exc:
            cause = self._describe(exc)
            if cause is None:
                raise
            raise ArtifactStoreError(f"{what}: {cause}") from None

    # -- URIs -----------------------------------------------------------------------------------
    def _key(self, rel: str) -> str:
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def uri_for(self, digest: str, is_dir: bool = False) -> str:
        return f"{self.scheme}://{self.bucket}/{self._key(key_for(parse_digest(digest), is_dir))}"

    def _locate(self, uri: str) -> tuple[str, str, bool]:
        parsed = urlparse(uri)
        key = parsed.path.lstrip("/")
        base = f"{self.prefix}/" if self.prefix else ""
        if parsed.scheme != self.scheme or parsed.netloc != self.bucket or not key.startswith(base):
            raise ArtifactStoreError(f"artifact {uri} is not inside the artifact store {self.root}")
        hexd, is_dir = split_key(key[len(base):], uri)
        return key, hexd, is_dir

    # -- writing --------------------------------------------------------------------------------
    def _put_blob(self, path: Path) -> tuple[str, int]:
        hexd, size = file_digest(path)
        key = self._key(key_for(hexd, False))
        uri = f"{self.scheme}://{self.bucket}/{key}"

        def upload() -> None:
            if self._head(key) == (size, hexd):
                return  # identical content already stored
            self._upload_file(path, key, hexd, size)
            landed = self._head(key)
            if landed != (size, hexd):
                raise ArtifactStoreError(f"upload of {path} to {uri} did not land intact (stored: {landed})")

        self._guard(f"cannot upload {path} to {uri}", upload)
        return hexd, size

    def put(self, path: str | os.PathLike[str]) -> StoredArtifact:
        src = Path(path)
        if src.is_symlink() or not src.exists():
            raise ArtifactStoreError(f"cannot store {src}: it does not exist or is a symlink")
        if not src.is_dir():
            hexd, size = self._put_blob(src)
            return StoredArtifact(self.uri_for(f"sha256:{hexd}"), f"sha256:{hexd}", size)
        entries = walk_files(src)
        with ThreadPoolExecutor(PARALLEL_FILES) as pool:
            digests = list(pool.map(lambda e: self._put_blob(e[1]), entries))
        manifest = Manifest(tuple(TreeFile(rel, h, s) for (rel, _), (h, s) in zip(entries, digests)))
        digest = f"sha256:{manifest.hex}"
        uri = self.uri_for(digest, True)
        key = self._key(key_for(manifest.hex, True))
        data = manifest.to_bytes()

        def upload_manifest() -> None:  # last: its presence is what makes the tree exist
            if self._head(key) != (len(data), manifest.hex):
                self._upload_bytes(data, key, manifest.hex)

        self._guard(f"cannot upload the manifest of {src} to {uri}", upload_manifest)
        return StoredArtifact(uri, digest, manifest.size, is_dir=True)

    # -- reading --------------------------------------------------------------------------------
    def _manifest(self, key: str, uri: str) -> Manifest:
        return Manifest.from_bytes(self._guard(f"cannot read {uri}", lambda: self._read_bytes(key)), uri)

    def stat(self, uri: str) -> StoredArtifact | None:
        key, hexd, is_dir = self._locate(uri)
        head = self._guard(f"cannot stat {uri}", lambda: self._head(key))
        if head is None:
            return None
        size, recorded = head
        if is_dir:
            size = self._manifest(key, uri).size
        return StoredArtifact(uri, f"sha256:{recorded or hexd}", size, is_dir)

    def materialize(self, uri: str, dest: str | os.PathLike[str]) -> Path:
        key, hexd, is_dir = self._locate(uri)
        target = Path(dest)
        if self._guard(f"cannot stat {uri}", lambda: self._head(key)) is None:
            raise ArtifactNotFoundError(f"artifact {uri} does not exist")
        if not is_dir:
            self._fetch_blob(hexd, target, uri)
            return target
        manifest = self._manifest(key, uri)
        target.mkdir(parents=True, exist_ok=True)
        with ThreadPoolExecutor(PARALLEL_FILES) as pool:
            list(pool.map(lambda f: self._fetch_blob(f.hex, target / f.path, f"{uri} ({f.path})"), manifest.files))
        return target

    def _fetch_blob(self, hexd: str, dest: Path, what: str) -> None:
        key = self._key(key_for(hexd, False))
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.partial")
        try:
            if hexd == EMPTY_HEX:  # nothing to fetch (and the GCS emulator mis-serves empty objects)
                tmp.write_bytes(b"")
            else:
                self._guard(f"cannot download {what}", lambda: self._download_file(key, tmp))
            got, _ = file_digest(tmp)
            if got != hexd:
                raise DigestMismatchError(f"artifact {what} is corrupt: its bytes hash to sha256:{got}, "
                                          f"not sha256:{hexd}")
            os.replace(tmp, dest)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def verify(self, uri: str, digest: str, deep: bool = False) -> bool:
        key, hexd, is_dir = self._locate(uri)
        if parse_digest(digest) != hexd:
            return False
        return self._guard(f"cannot verify {uri}", lambda: self._verify_key(key, hexd, is_dir, deep, uri))

    def _verify_key(self, key: str, hexd: str, is_dir: bool, deep: bool, uri: str) -> bool:
        head = self._head(key)
        if head is None or head[1] != hexd:
            return False
        if not is_dir:
            if not deep:
                return True
            if head[0] == 0:  # empty: nothing to stream (the GCS emulator mis-serves empty objects)
                return hexd == EMPTY_HEX
            return hash_chunks(self._stream(key))[0] == hexd
        try:
            manifest = Manifest.from_bytes(self._read_bytes(key), uri)
        except ArtifactStoreError:
            return False
        if manifest.hex != hexd:
            return False
        return all(self._verify_key(self._key(key_for(f.hex, False)), f.hex, False, deep, uri)
                   for f in manifest.files)

    def fetch_object(self, uri: str, dest: str | os.PathLike[str]) -> Path:
        """Download the object at `uri`, which need not be content-addressed (what `dsl.importer` reads).

        Only single objects: an object store has no folders, and guessing a prefix's extent would import
        more (or less) than was meant."""
        parsed = urlparse(uri)
        key = parsed.path.lstrip("/")
        if parsed.scheme != self.scheme or parsed.netloc != self.bucket or not key:
            raise ArtifactStoreError(f"{uri} is not an object in bucket {self.scheme}://{self.bucket}")
        if self._guard(f"cannot stat {uri}", lambda: self._head(key)) is None:
            raise ArtifactNotFoundError(f"there is no object at {uri} (importing a prefix of several objects is not "
                                        "supported; import one object, e.g. an archive)")
        target = Path(dest)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
        try:
            self._guard(f"cannot download {uri}", lambda: self._download_file(key, tmp))
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        return target

    # -- removal --------------------------------------------------------------------------------
    def delete(self, uri: str) -> bool:
        """Remove a blob, or a tree's manifest (its blobs may be shared with other trees)."""
        key, _, _ = self._locate(uri)
        return self._guard(f"cannot delete {uri}", lambda: self._delete(key))
