"""Plausible provider outputs for mocked resources and invokes.

Why: programs read provider-computed outputs (an EKS endpoint, an OIDC issuer, a service account
email, an RDS address) and build further inputs from them. Echoing the inputs back is not enough;
these fill in the computed fields with deterministic, recognisable fake values so downstream inputs
(kubeconfigs, IAM trust policies, connection URLs) are concrete and reviewable. Values that are
secret in the real provider are marked secret by the recorder via `additionalSecretOutputs`.
"""

from __future__ import annotations

from typing import Any

import yaml

ACCOUNT = "123456789012"
REGION = "us-east-1"
GCP_PROJECT = "conveyor-mock"


def _arn(service: str, name: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{name}"


def _aws(token: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    service = token.split(":")[1].split("/")[0]
    out: dict[str, Any] = {"arn": _arn(service, name)}
    if token == "aws:eks/cluster:Cluster":
        out |= {
            "name": inputs.get("name", name),
            "endpoint": f"https://{name}.gr7.{REGION}.eks.amazonaws.com",
            "certificateAuthority": {"data": "bW9jay1jYQ=="},
            "identities": [
                {"oidcs": [{"issuer": f"https://oidc.eks.{REGION}.amazonaws.com/id/MOCK{name.upper()}"}]}
            ],
            "vpcConfig": {**(inputs.get("vpcConfig") or {}), "clusterSecurityGroupId": f"sg-{name}-cluster"},
            "version": inputs.get("version", "1.31"),
        }
    elif token == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
        out["url"] = str(inputs.get("url", "")).removeprefix("https://")
    elif token == "aws:rds/instance:Instance":
        host = f"{name}.abcdefgh.{REGION}.rds.amazonaws.com"
        out |= {"address": host, "endpoint": f"{host}:5432", "port": inputs.get("port", 5432)}
    elif token in ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"):
        bucket = inputs.get("bucket", name)
        out |= {
            "bucket": bucket,
            "arn": f"arn:aws:s3:::{bucket}",
            "bucketDomainName": f"{bucket}.s3.amazonaws.com",
        }
    elif token == "aws:ecr/repository:Repository":
        repo = inputs.get("name", name)
        out |= {"name": repo, "repositoryUrl": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{repo}"}
    elif token == "aws:kms/key:Key":
        out |= {"keyId": f"key-{name}"}
    elif token == "aws:iam/role:Role":
        out |= {"name": inputs.get("name", name), "uniqueId": f"AROA{name.upper()}"}
    elif token == "aws:sqs/queue:Queue":
        qname = inputs.get("name", name)
        out |= {"name": qname, "url": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{qname}"}
    elif token == "aws:ec2/securityGroup:SecurityGroup":
        out |= {"id": f"sg-{name}"}
    elif token == "aws:cloudwatch/eventRule:EventRule":
        out |= {"name": inputs.get("name", name)}
    return out


def _gcp(token: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    project = inputs.get("project", GCP_PROJECT)
    out: dict[str, Any] = {"selfLink": f"https://www.googleapis.com/compute/v1/projects/{project}/x/{name}"}
    if token == "gcp:container/cluster:Cluster":
        out |= {
            "name": inputs.get("name", name),
            "endpoint": "10.0.0.2",
            "masterAuth": {"clusterCaCertificate": "bW9jay1jYQ=="},
        }
    elif token == "gcp:serviceaccount/account:Account":
        account = inputs.get("accountId", name)
        email = f"{account}@{project}.iam.gserviceaccount.com"
        out |= {
            "email": email,
            "name": f"projects/{project}/serviceAccounts/{email}",
            "member": f"serviceAccount:{email}",
        }
    elif token == "gcp:sql/databaseInstance:DatabaseInstance":
        out |= {
            "name": inputs.get("name", name),
            "privateIpAddress": "10.10.0.5",
            "connectionName": f"{project}:{inputs.get('region', 'us-central1')}:{name}",
        }
    elif token == "gcp:storage/bucket:Bucket":
        bucket = inputs.get("name", name)
        out |= {"name": bucket, "url": f"gs://{bucket}"}
    elif token == "gcp:kms/cryptoKey:CryptoKey":
        out |= {"id": f"projects/{project}/locations/global/keyRings/ring/cryptoKeys/{name}"}
    elif token == "gcp:kms/keyRing:KeyRing":
        out |= {"id": f"projects/{project}/locations/global/keyRings/{name}"}
    elif token in ("gcp:compute/network:Network", "gcp:compute/subnetwork:Subnetwork"):
        out |= {"name": inputs.get("name", name), "id": f"projects/{project}/networks/{name}"}
    return out


# Python dynamic providers (components/generated_secret.py) register under this one token.
DYNAMIC = "pulumi-python:dynamic:Resource"


def mock_outputs(token: str, name: str, inputs: dict[str, Any], project: str = "project") -> dict[str, Any]:
    """Outputs = inputs, overlaid with the computed fields the real provider would return."""
    state = dict(inputs)
    computed: dict[str, Any] = {}
    if token.startswith("aws:"):
        computed = _aws(token, name, inputs)
    elif token.startswith("gcp:"):
        computed = _gcp(token, name, inputs)
    for key, value in computed.items():
        if isinstance(value, dict) and isinstance(state.get(key), dict):
            state[key] = {**state[key], **value}  # e.g. vpcConfig + computed clusterSecurityGroupId
        elif key not in state or key == "arn":
            state[key] = value
    state.pop("__provider", None)  # a dynamic resource's pickled provider: not an output
    if token.startswith("random:") or (token == DYNAMIC and "length" in state and state.get("result") is None):
        length = int(inputs.get("length", 16) or 16)
        state |= {"result": ("m0ck" + name)[:length].ljust(length, "x"), "bcryptHash": "$2a$10$mock"}
    elif token.startswith("kubernetes:") and "metadata" in inputs:
        meta = dict(inputs.get("metadata") or {})
        meta.setdefault("name", name)
        state["metadata"] = meta
    elif token == "kubernetes:helm.sh/v3:Release":
        state |= {
            "status": {"name": inputs.get("name", name), "namespace": inputs.get("namespace", "default")}
        }
    return state


def mock_call(token: str, args: dict[str, Any]) -> dict[str, Any]:
    """Results for the invokes a platform program typically makes (identity, AZs, partitions)."""
    if token == "aws:index/getCallerIdentity:getCallerIdentity":
        return {"accountId": ACCOUNT, "arn": _arn("iam", "user/mock"), "userId": "MOCK"}
    if token == "aws:index/getRegion:getRegion":
        return {"name": REGION, "region": REGION, "id": REGION}
    if token == "aws:index/getPartition:getPartition":
        return {"partition": "aws", "dnsSuffix": "amazonaws.com"}
    if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
        return {
            "names": [f"{REGION}a", f"{REGION}b", f"{REGION}c"],
            "zoneIds": ["use1-az1", "use1-az2", "use1-az3"],
        }
    if token == "gcp:organizations/getClientConfig:getClientConfig":
        return {"project": GCP_PROJECT, "region": "us-central1", "accessToken": "mock"}
    if token == "gcp:storage/getProjectServiceAccount:getProjectServiceAccount":
        return {
            "emailAddress": "service-123456789@gs-project-accounts.iam.gserviceaccount.com",
            "project": GCP_PROJECT,
        }
    if token == "gcp:organizations/getProject:getProject":
        return {"projectId": GCP_PROJECT, "number": "123456789"}
    if token == "kubernetes:yaml:decode":  # what the provider does for yaml.ConfigGroup: parse, drop empties
        return {"result": [d for d in yaml.safe_load_all(args.get("text", "")) if d]}
    return dict(args)
