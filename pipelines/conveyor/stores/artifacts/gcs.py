"""GCSArtifactStore (`gs://bucket/prefix`): google-cloud-storage with resumable, chunked uploads.

Files above one chunk go up as resumable uploads in `chunk_size` pieces, so a dropped connection
resumes instead of restarting, and nothing is visible until the last chunk commits. Uploads of
content-addressed keys are idempotent, so they are retried (the library only retries
precondition-guarded uploads by default).

With STORAGE_EMULATOR_HOST set (tests, local emulators) the client talks to the emulator with
anonymous credentials; otherwise it uses Application Default Credentials (workload identity in pods).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from conveyor.stores.artifacts.remote import META_KEY, ObjectArtifactStore

MB = 1 << 20


class GCSArtifactStore(ObjectArtifactStore):
    scheme = "gs"

    def __init__(self, root: str, *, project: str | None = None, chunk_size: int = 8 * MB, client=None):
        super().__init__(root)
        from google.api_core.retry import Retry
        from google.cloud.storage.retry import DEFAULT_RETRY

        if chunk_size % (256 * 1024):
            raise ValueError(f"chunk_size {chunk_size} must be a multiple of 256 KiB (a GCS requirement)")
        self.chunk_size = chunk_size
        self.client = client or self._client(project)
        self._bucket = self.client.bucket(self.bucket)
        self._retry: Retry = DEFAULT_RETRY.with_timeout(300.0)

    @staticmethod
    def _client(project: str | None):
        from google.cloud import storage

        emulator = os.environ.get("STORAGE_EMULATOR_HOST")
        project = project or os.environ.get("GOOGLE_CLOUD_PROJECT")
        if emulator:
            from google.auth.credentials import AnonymousCredentials

            return storage.Client(project=project or "conveyor", credentials=AnonymousCredentials(),
                                  client_options={"api_endpoint": emulator})
        return storage.Client(project=project)

    def _describe(self, exc: BaseException) -> str | None:
        from google.api_core.exceptions import GoogleAPIError
        from google.auth.exceptions import GoogleAuthError

        media_errors: tuple[type[BaseException], ...] = ()
        try:
            from google.cloud.storage import exceptions as media  # google-cloud-storage >= 3 vendors these

            media_errors += (media.InvalidResponse, media.DataCorruption)
        except ImportError:
            pass
        try:
            from google.resumable_media import common as legacy

            media_errors += (legacy.InvalidResponse, legacy.DataCorruption)
        except ImportError:
            pass
        import requests

        if isinstance(exc, (GoogleAPIError, GoogleAuthError, requests.RequestException, *media_errors)):
            return f"GCS request failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return None

    def _head(self, key: str) -> tuple[int, str | None] | None:
        blob = self._bucket.get_blob(key, retry=self._retry)
        if blob is None:
            return None
        return int(blob.size or 0), (blob.metadata or {}).get(META_KEY)

    def _blob(self, key: str, hexd: str, size: int):
        blob = self._bucket.blob(key, chunk_size=self.chunk_size if size > self.chunk_size else None)
        blob.metadata = {META_KEY: hexd}
        return blob

    def _upload_file(self, path: Path, key: str, hexd: str, size: int) -> None:
        self._blob(key, hexd, size).upload_from_filename(str(path), retry=self._retry)

    def _upload_bytes(self, data: bytes, key: str, hexd: str) -> None:
        self._blob(key, hexd, len(data)).upload_from_string(data, content_type="application/json",
                                                            retry=self._retry)

    def _download_file(self, key: str, dest: Path) -> None:
        self._bucket.blob(key, chunk_size=self.chunk_size).download_to_filename(str(dest), retry=self._retry)

    def _read_bytes(self, key: str) -> bytes:
        return self._bucket.blob(key).download_as_bytes(retry=self._retry)

    def _stream(self, key: str) -> Iterable[bytes]:
        with self._bucket.blob(key, chunk_size=self.chunk_size).open("rb") as f:
            while chunk := f.read(MB):
                yield chunk

    def _delete(self, key: str) -> bool:
        from google.api_core.exceptions import NotFound

        try:
            self._bucket.blob(key).delete(retry=self._retry)
        except NotFound:
            return False
        return True
