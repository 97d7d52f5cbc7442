"""Artifact stores: content-addressed bytes on the local disk, S3 or GCS, chosen by the root's scheme.

The cloud SDKs (boto3, google-cloud-storage) are imported only when an s3:// or gs:// root is
opened, so a laptop install without the cluster extra still works locally.
"""

from __future__ import annotations

from typing import Any

from conveyor.stores.artifacts.api import (
    ArtifactNotFoundError,
    ArtifactStore,
    ArtifactStoreError,
    DigestMismatchError,
    StoredArtifact,
)
from conveyor.stores.artifacts.cas import digest_path
from conveyor.stores.artifacts.local import LocalArtifactStore


def default_artifact_root() -> str:
    from conveyor.stores.metadata.urls import conveyor_home

    return str(conveyor_home() / "artifacts")


def open_artifact_store(root: str | None = None, **options: Any) -> ArtifactStore:
    """`s3://bucket/prefix` → S3, `gs://bucket/prefix` → GCS, a path or file:// URI → local.

    `options` go to the backend's constructor (e.g. endpoint_url for S3, chunk_size for GCS).
    """
    root = root or default_artifact_root()
    scheme = root.split("://", 1)[0].lower() if "://" in root else ""
    if scheme == "s3":
        from conveyor.stores.artifacts.s3 import S3ArtifactStore

        return S3ArtifactStore(root, **options)
    if scheme == "gs":
        from conveyor.stores.artifacts.gcs import GCSArtifactStore

        return GCSArtifactStore(root, **options)
    if scheme in ("", "file"):
        from urllib.parse import unquote, urlparse

        return LocalArtifactStore(unquote(urlparse(root).path) if scheme else root)
    raise ArtifactStoreError(f"artifact root {root!r} has unsupported scheme {scheme!r}; "
                             "expected a local path, file://, s3://BUCKET[/PREFIX] or gs://BUCKET[/PREFIX]")


__all__ = [
    "ArtifactNotFoundError", "ArtifactStore", "ArtifactStoreError", "DigestMismatchError", "LocalArtifactStore",
    "StoredArtifact", "default_artifact_root", "digest_path", "open_artifact_store",
]
