"""Artifact stores: content-addressed bytes on the local disk, S3 or GCS, chosen by the root's scheme.

The cloud SDKs (boto3, google-cloud-storage) are imported only when an s3:// or gs:// root is
opened, so a laptop install without the cluster extra still works locally.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
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


def fetch_uri(uri: str, dest: str | os.PathLike[str], **options: Any) -> Path:
    """Copy the object at `uri` (a local path, file://, s3:// or gs://) to `dest`; the bytes need not be
    in any artifact store. Credentials and endpoints come from the same places as the stores' own."""
    from urllib.parse import unquote, urlparse

    scheme = uri.split("://", 1)[0].lower() if "://" in uri else ""
    target = Path(dest)
    if scheme in ("s3", "gs"):
        store = open_artifact_store(f"{scheme}://{urlparse(uri).netloc}", **options)
        return store.fetch_object(uri, target)  # type: ignore[attr-defined]
    if scheme not in ("", "file"):
        raise ArtifactStoreError(f"cannot read {uri!r}: unsupported scheme {scheme!r}; expected a local path, "
                                 "file://, s3://BUCKET/KEY or gs://BUCKET/KEY")
    source = Path(unquote(urlparse(uri).path) if scheme else uri).expanduser()
    if not source.exists():
        raise ArtifactNotFoundError(f"there is no file or folder at {uri}")
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, symlinks=False)
    else:
        shutil.copyfile(source, target)
    return target


__all__ = [
    "ArtifactNotFoundError", "ArtifactStore", "ArtifactStoreError", "DigestMismatchError", "LocalArtifactStore",
    "StoredArtifact", "default_artifact_root", "digest_path", "fetch_uri", "open_artifact_store",
]
