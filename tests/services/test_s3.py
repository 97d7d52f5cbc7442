"""Smoke tests proving the S3 fixtures: real moto over HTTP, and the fault-injecting proxy."""

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.services


def test_put_and_get_object(s3_endpoint):
    bucket = s3_endpoint.create_bucket()
    s3 = s3_endpoint.client()
    s3.put_object(Bucket=bucket, Key="runs/1/model.bin", Body=b"\x00weights\xff")
    assert s3.get_object(Bucket=bucket, Key="runs/1/model.bin")["Body"].read() == b"\x00weights\xff"
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == ["runs/1/model.bin"]


def test_proxy_forwards_unchanged(s3_faulty_proxy, s3_endpoint):
    bucket = s3_endpoint.create_bucket()
    s3 = s3_faulty_proxy.client()
    s3.put_object(Bucket=bucket, Key="k", Body=b"through the proxy" * 1000)
    # written through the proxy, visible directly in moto
    assert s3_endpoint.client().get_object(Bucket=bucket, Key="k")["Body"].read() == b"through the proxy" * 1000
    assert s3.head_object(Bucket=bucket, Key="k")["ContentLength"] == 17000
    assert s3_faulty_proxy.requests_seen == 2
    assert s3_faulty_proxy.faults_served == 0


def test_proxy_fails_then_recovers(s3_faulty_proxy, s3_endpoint):
    bucket = s3_endpoint.create_bucket()
    s3_endpoint.client().put_object(Bucket=bucket, Key="k", Body=b"v")
    no_retry = s3_faulty_proxy.client(retries={"total_max_attempts": 1, "mode": "standard"})

    s3_faulty_proxy.fail_next(1, 503, retry_after="1")
    with pytest.raises(ClientError) as err:
        no_retry.get_object(Bucket=bucket, Key="k")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert err.value.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "1"

    s3_faulty_proxy.fail_next(2, 500)
    retrying = s3_faulty_proxy.client(retries={"total_max_attempts": 3, "mode": "standard"})
    assert retrying.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
    assert s3_faulty_proxy.faults_served == 3
    assert no_retry.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
