"""S3ArtifactStore (`s3://bucket/prefix`): boto3 with multipart, parallel transfers and retries.

Large files go up and down in parallel parts (boto3's TransferConfig); every request is retried by
botocore's "standard" mode, which backs off with jitter on 500/502/503/504 and throttling. A
multipart upload that finally fails is aborted by the transfer manager and S3 never shows an
incomplete multipart object, so a failed put leaves nothing that `exists` or `verify` accepts.

Endpoint and credentials come from the arguments or the usual AWS environment
(AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...): the in-pod launcher gets them
from the pod's environment, tests from the moto server fixture.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from conveyor.stores.artifacts.remote import META_KEY, ObjectArtifactStore

MB = 1 << 20


class S3ArtifactStore(ObjectArtifactStore):
    scheme = "s3"

    def __init__(self, root: str, *, endpoint_url: str | None = None, region: str | None = None,
                 access_key_id: str | None = None, secret_access_key: str | None = None,
                 max_attempts: int = 8, multipart_threshold: int = 8 * MB, multipart_chunksize: int = 8 * MB,
                 max_concurrency: int = 8, client=None):
        super().__init__(root)
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        self.endpoint_url = endpoint_url
        config = Config(
            retries={"max_attempts": max_attempts, "mode": "standard"},
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            connect_timeout=10,
            read_timeout=120,
            max_pool_connections=max(10, max_concurrency * 2),
        )
        self.client = client or boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region, aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key, config=config)
        self.transfer = TransferConfig(multipart_threshold=multipart_threshold, multipart_chunksize=multipart_chunksize,
                                       max_concurrency=max_concurrency, use_threads=True)

    def _describe(self, exc: BaseException) -> str | None:
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(exc, ClientError):
            err = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            return f"S3 {exc.operation_name} failed: {err.get('Code', '?')} (HTTP {status}) {err.get('Message', '')}".strip()
        if isinstance(exc, BotoCoreError | Boto3Error):
            return f"S3 request failed: {exc}"
        return None

    def _head(self, key: str) -> tuple[int, str | None] | None:
        from botocore.exceptions import ClientError

        try:
            resp = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return int(resp["ContentLength"]), resp.get("Metadata", {}).get(META_KEY)

    def _upload_file(self, path: Path, key: str, hexd: str, size: int) -> None:
        self.client.upload_file(str(path), self.bucket, key, ExtraArgs={"Metadata": {META_KEY: hexd}},
                                Config=self.transfer)

    def _upload_bytes(self, data: bytes, key: str, hexd: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, Metadata={META_KEY: hexd})

    def _download_file(self, key: str, dest: Path) -> None:
        self.client.download_file(self.bucket, key, str(dest), Config=self.transfer)

    def _read_bytes(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def _stream(self, key: str) -> Iterable[bytes]:
        body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        try:
            yield from body.iter_chunks(MB)
        finally:
            body.close()

    def _delete(self, key: str) -> bool:
        if self._head(key) is None:
            return False
        self.client.delete_object(Bucket=self.bucket, Key=key)
        return True
