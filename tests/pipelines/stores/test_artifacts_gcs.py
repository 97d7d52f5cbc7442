"""GCSArtifactStore on the real gcp-storage-emulator: chunked resumable uploads of large files."""

from __future__ import annotations

import os

import pytest

from conveyor.stores.artifacts import ArtifactStoreError
from conveyor.stores.artifacts.gcs import GCSArtifactStore

pytestmark = pytest.mark.services


def test_a_file_larger_than_a_chunk_uses_a_resumable_upload(gcs_emulator_env, tmp_path):
    bucket = gcs_emulator_env.create_bucket()
    store = GCSArtifactStore(f"gs://{bucket}/p", chunk_size=1024 * 1024)
    requests_made: list[str] = []
    session = store.client._http
    original = session.request

    def recording(method, url, *args, **kwargs):
        requests_made.append(f"{method} {url}")
        return original(method, url, *args, **kwargs)

    session.request = recording
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(9 * 1024 * 1024 + 17))  # the library sends <= 8 MiB in one request
    stored = store.put(src)
    assert sum("uploadType=resumable" in r for r in requests_made) >= 10, requests_made  # start + 10 chunks
    assert store.materialize(stored.uri, tmp_path / "out").read_bytes() == src.read_bytes()
    assert store.verify(stored.uri, stored.digest, deep=True)


def test_chunk_size_must_suit_gcs(gcs_emulator_env):
    with pytest.raises(ValueError, match="multiple of 256 KiB"):
        GCSArtifactStore("gs://b/p", chunk_size=1000)


def test_a_missing_bucket_is_named(gcs_emulator_env, tmp_path):
    store = GCSArtifactStore("gs://no-such-bucket-here/p")
    src = tmp_path / "f"
    src.write_bytes(b"x")
    with pytest.raises(ArtifactStoreError, match="gs://no-such-bucket-here/p/blobs/sha256/"):
        store.put(src)
