"""The ArtifactStore interface: content-addressed bytes behind a URI.

Every implementation keys objects by their sha256 digest, so the same bytes are stored once and a
URI names immutable content. The executor records (uri, digest, size) in the metadata store and,
before reusing a cache hit, calls `verify` — a deleted or altered artifact is never a hit
(KFP issue 7939).

Digest format: "sha256:<64 hex>". A directory's digest is sha256 over its sorted relative paths
and their file digests (see `digest.py`), so it does not depend on mtimes or listing order.
"""

from __future__ import annotations

import abc
import os
from dataclasses import dataclass
from pathlib import Path


class ArtifactStoreError(Exception):
    """A store operation failed. Messages name the URI/root and the cause, never credentials."""


class ArtifactNotFoundError(ArtifactStoreError):
    """The URI names no complete object in the store."""


class DigestMismatchError(ArtifactStoreError):
    """Stored bytes do not match the digest they were recorded with."""


@dataclass(frozen=True)
class StoredArtifact:
    uri: str
    digest: str  # "sha256:<hex>"
    size: int  # bytes; for a directory, the sum of its files
    is_dir: bool = False


class ArtifactStore(abc.ABC):
    """Put, materialize, verify and delete content-addressed artifacts under one root URI."""

    root: str  # e.g. "/home/me/.conveyor/artifacts", "s3://bucket/prefix", "gs://bucket/prefix"

    @abc.abstractmethod
    def put(self, path: str | os.PathLike[str]) -> StoredArtifact:
        """Store a file or directory and return where it lives.

        Atomic: a reader sees either nothing or the complete object; an interrupted put never leaves
        something that `exists`/`verify` accept. Putting identical content twice is cheap and
        returns the same URI.
        """

    @abc.abstractmethod
    def materialize(self, uri: str, dest: str | os.PathLike[str]) -> Path:
        """Make the artifact available at `dest` (a file or a directory tree), without copying bytes
        where the backend allows (hard links locally). Files are read-only: never write to them."""

    @abc.abstractmethod
    def stat(self, uri: str) -> StoredArtifact | None:
        """What the store knows of a complete object at `uri`, or None."""

    def exists(self, uri: str) -> bool:
        return self.stat(uri) is not None

    @abc.abstractmethod
    def verify(self, uri: str, digest: str, deep: bool = False) -> bool:
        """True if `uri` holds a complete object whose digest is `digest`.

        Cheap by default (the digest recorded with the object at upload, which the upload itself
        checked); `deep=True` re-reads the bytes and re-hashes them.
        """

    @abc.abstractmethod
    def delete(self, uri: str) -> bool:
        """Remove the object; True if something was removed. For tests and cache pruning."""

    @abc.abstractmethod
    def uri_for(self, digest: str, is_dir: bool = False) -> str:
        """The URI that content with `digest` has (or would have) in this store."""
