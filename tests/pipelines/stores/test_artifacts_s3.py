"""S3ArtifactStore on a real S3 API (moto server): multipart, retries through injected 500/503s, clean failure."""

from __future__ import annotations

import hashlib
import os
import threading
import time

import pytest

from conveyor.stores.artifacts import ArtifactStoreError
from conveyor.stores.artifacts.s3 import MB, S3ArtifactStore

pytestmark = pytest.mark.services


def _store(endpoint, bucket: str, **kw) -> S3ArtifactStore:
    kw.setdefault("access_key_id", endpoint.access_key)
    kw.setdefault("secret_access_key", endpoint.secret_key)
    return S3ArtifactStore(f"s3://{bucket}/art", endpoint_url=endpoint.endpoint_url, region=endpoint.region, **kw)


@pytest.fixture
def bucket(s3_endpoint) -> str:
    return s3_endpoint.create_bucket()


def _write_random(path, size: int) -> str:
    block = os.urandom(MB)
    h = hashlib.sha256()
    with open(path, "wb") as f:
        for i in range(size // MB):
            chunk = block[:1] + i.to_bytes(4, "big") + block[5:]  # distinct parts, cheap to generate
            f.write(chunk)
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def test_a_65mb_file_goes_up_in_parallel_parts_and_comes_back_intact(s3_endpoint, bucket, tmp_path):
    store = _store(s3_endpoint, bucket)
    src = tmp_path / "big.bin"
    digest = _write_random(src, 65 * MB)
    started = time.monotonic()
    stored = store.put(src)
    assert stored.digest == digest and stored.size == 65 * MB
    head = s3_endpoint.client().head_object(Bucket=bucket, Key=store._locate(stored.uri)[0])
    assert head["ETag"].strip('"').endswith("-9")  # 9 parts of 8 MB: a multipart upload
    assert head["Metadata"]["sha256"] == digest.split(":")[1]
    out = store.materialize(stored.uri, tmp_path / "copy.bin")
    assert out.stat().st_size == 65 * MB and store.verify(stored.uri, digest)
    assert time.monotonic() - started < 60


def test_the_endpoint_comes_from_the_environment(s3_endpoint, bucket, tmp_path, monkeypatch):
    for key, value in s3_endpoint.env().items():
        monkeypatch.setenv(key, value)
    store = S3ArtifactStore(f"s3://{bucket}")
    src = tmp_path / "f"
    src.write_bytes(b"env")
    assert store.verify(store.put(src).uri, "sha256:" + hashlib.sha256(b"env").hexdigest())


@pytest.mark.parametrize("status", [500, 503])
def test_transient_errors_are_retried_on_put_and_materialize(s3_faulty_proxy, tmp_path, status):
    store = _store(s3_faulty_proxy, s3_faulty_proxy.create_bucket())
    src = tmp_path / "f"
    src.write_bytes(b"survives faults")
    s3_faulty_proxy.fail_next(3, status=status)
    stored = store.put(src)
    s3_faulty_proxy.fail_next(3, status=status)
    assert store.materialize(stored.uri, tmp_path / "out").read_bytes() == b"survives faults"
    assert s3_faulty_proxy.faults_served == 6


def test_faults_in_the_middle_of_a_multipart_upload_are_absorbed(s3_faulty_proxy, tmp_path):
    store = _store(s3_faulty_proxy, s3_faulty_proxy.create_bucket(), multipart_threshold=5 * MB,
                   multipart_chunksize=5 * MB, max_concurrency=4)
    src = tmp_path / "big.bin"
    digest = _write_random(src, 30 * MB)
    s3_faulty_proxy.reset()

    def inject_once_parts_flow() -> None:
        deadline = time.monotonic() + 30
        while s3_faulty_proxy.requests_seen < 3 and time.monotonic() < deadline:
            time.sleep(0.001)
        s3_faulty_proxy.fail_next(2, status=503)

    injector = threading.Thread(target=inject_once_parts_flow)
    injector.start()
    stored = store.put(src)
    injector.join()
    assert s3_faulty_proxy.faults_served == 2
    assert stored.digest == digest and store.verify(stored.uri, digest, deep=True)


def test_a_persistent_outage_fails_cleanly_and_leaves_nothing(s3_faulty_proxy, tmp_path):
    store = _store(s3_faulty_proxy, s3_faulty_proxy.create_bucket(), max_attempts=3,
                   secret_access_key="SuperSecretKey123", multipart_threshold=5 * MB, multipart_chunksize=5 * MB)
    src = tmp_path / "big.bin"
    digest = _write_random(src, 12 * MB)
    s3_faulty_proxy.fail_next(1000, status=503)
    with pytest.raises(ArtifactStoreError) as info:
        store.put(src)
    message = str(info.value)
    assert f"cannot upload {src} to {store.uri_for(digest)}" in message
    assert "SlowDown" in message or "503" in message
    assert "SuperSecretKey123" not in message
    s3_faulty_proxy.reset()
    assert not store.exists(store.uri_for(digest))
    assert not store.verify(store.uri_for(digest), digest)


def test_a_missing_bucket_is_named(s3_endpoint, tmp_path):
    store = _store(s3_endpoint, "no-such-bucket-here")
    src = tmp_path / "f"
    src.write_bytes(b"x")
    with pytest.raises(ArtifactStoreError, match="s3://no-such-bucket-here/art/blobs/sha256/.*NoSuchBucket|404"):
        store.put(src)
