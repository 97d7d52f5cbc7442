"""Smoke tests proving the GCS emulator fixture with the real google-cloud-storage SDK."""

import pytest

pytestmark = pytest.mark.services


def test_upload_and_download(gcs_endpoint):
    name = gcs_endpoint.create_bucket()
    bucket = gcs_endpoint.client().bucket(name)
    bucket.blob("runs/1/metrics.json").upload_from_string(b'{"auc": 0.91}', content_type="application/json")
    assert bucket.blob("runs/1/metrics.json").download_as_bytes() == b'{"auc": 0.91}'
    assert [b.name for b in gcs_endpoint.client().list_blobs(name)] == ["runs/1/metrics.json"]


def test_env_points_default_clients_at_the_emulator(gcs_emulator_env):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    name = gcs_emulator_env.create_bucket()
    # No api_endpoint given: STORAGE_EMULATOR_HOST alone must route the client to the emulator.
    client = storage.Client(credentials=AnonymousCredentials())
    client.bucket(name).blob("a.txt").upload_from_string("via env")
    assert gcs_emulator_env.client().bucket(name).blob("a.txt").download_as_text() == "via env"
