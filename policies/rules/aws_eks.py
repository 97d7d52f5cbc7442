"""EKS and IAM: a private-ish control plane, encrypted secrets, audit logs and least-privilege IAM.

Why: EKS defaults to a public API endpoint open to 0.0.0.0/0, unencrypted Secrets (beyond EBS) and
no control-plane logs. IRSA trust policies without a `:sub` condition let *any* service account in
the cluster assume the role, and a single `Action: *` grant turns one leaked pod token into account
admin. These rules read only the resource's own inputs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ._core import (
    OPEN_CIDRS,
    Context,
    Rule,
    as_list,
    get,
    parse_document,
    resource_rule,
    statements,
    truthy,
)

RULES: list[Rule] = []

EKS_CLUSTER = "aws:eks/cluster:Cluster"
ROLE = "aws:iam/role:Role"
POLICY_DOC_TYPES = (
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
ATTACHMENT_TYPES = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
)
ADMIN_MANAGED_POLICIES = ("AdministratorAccess", "IAMFullAccess", "PowerUserAccess")


@resource_rule(
    RULES,
    id="eks-endpoint-not-public",
    description="The EKS API endpoint is private, or public only to named CIDRs (never 0.0.0.0/0).",
    severity="critical",
    types=(EKS_CLUSTER,),
    remediation="Set vpc_config.endpoint_public_access=False, or public_access_cidrs to your office/VPN CIDRs.",
)
def endpoint_not_public(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    vpc = get(props, "vpcConfig", default={})
    if not truthy(get(vpc, "endpointPublicAccess"), default=True):
        return
    cidrs = [str(c) for c in as_list(get(vpc, "publicAccessCidrs"))] or ["0.0.0.0/0"]
    open_to = [c for c in cidrs if c in OPEN_CIDRS]
    if open_to:
        origin = "publicAccessCidrs" if get(vpc, "publicAccessCidrs") else "the default publicAccessCidrs"
        yield f"the public API endpoint is open to {', '.join(open_to)} ({origin})"


@resource_rule(
    RULES,
    id="eks-secrets-encryption",
    description="EKS envelope-encrypts Kubernetes Secrets with a KMS key.",
    severity="high",
    types=(EKS_CLUSTER,),
    remediation="Set encryption_config={'provider': {'key_arn': key.arn}, 'resources': ['secrets']}.",
)
def secrets_encryption(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    configs = as_list(get(props, "encryptionConfig"))
    ok = any(
        "secrets" in [str(r) for r in as_list(get(c, "resources"))] and get(c, "provider", "keyArn")
        for c in configs
    )
    if not ok:
        yield "encryptionConfig does not encrypt 'secrets' with a KMS keyArn"


@resource_rule(
    RULES,
    id="eks-audit-logs",
    description="EKS ships the control plane's audit log to CloudWatch.",
    severity="medium",
    types=(EKS_CLUSTER,),
    config={
        "requiredLogTypes": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["audit"],
            "description": "Control-plane log types that must be enabled.",
        }
    },
    remediation="Add 'audit' (and 'authenticator') to enabled_cluster_log_types.",
)
def audit_logs(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    enabled = {str(t) for t in as_list(get(props, "enabledClusterLogTypes"))}
    missing = [t for t in ctx.config["requiredLogTypes"] if t not in enabled]
    if missing:
        yield f"enabledClusterLogTypes lacks {', '.join(missing)}"


def _is_web_identity(stmt: Mapping[str, Any]) -> bool:
    actions = [str(a) for a in as_list(stmt.get("Action"))]
    principal = stmt.get("Principal")
    federated = as_list(principal.get("Federated")) if isinstance(principal, Mapping) else []
    return "sts:AssumeRoleWithWebIdentity" in actions or any("oidc-provider" in str(f) for f in federated)


def _sub_values(stmt: Mapping[str, Any]) -> list[str]:
    condition = stmt.get("Condition")
    if not isinstance(condition, Mapping):
        return []
    values: list[str] = []
    for operator in ("StringEquals", "StringLike", "ForAnyValue:StringEquals", "ForAnyValue:StringLike"):
        block = condition.get(operator)
        if isinstance(block, Mapping):
            for key, value in block.items():
                if str(key).endswith(":sub"):
                    values += [str(v) for v in as_list(value)]
    return values


_TOO_BROAD_SUBS = ("*", "system:serviceaccount:*", "system:serviceaccount:*:*")


@resource_rule(
    RULES,
    id="iam-irsa-trust-scoped",
    description="IRSA trust policies pin the service account with a `<issuer>:sub` condition.",
    severity="critical",
    types=(ROLE,),
    remediation="Add Condition StringEquals {'<issuer>:sub': 'system:serviceaccount:<ns>:<sa>'} to the trust policy.",
)
def irsa_trust_scoped(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    for i, stmt in enumerate(statements(parse_document(get(props, "assumeRolePolicy")))):
        if stmt.get("Effect", "Allow") != "Allow" or not _is_web_identity(stmt):
            continue
        subs = _sub_values(stmt)
        if not subs:
            yield f"web-identity statement {i} has no ':sub' condition; any service account could assume the role"
        elif any(s in _TOO_BROAD_SUBS for s in subs):
            yield f"web-identity statement {i} allows sub {subs}; name the namespace and service account"


def _admin_findings(document: Any) -> Iterator[str]:
    for i, stmt in enumerate(statements(parse_document(document))):
        if stmt.get("Effect", "Allow") != "Allow":
            continue
        actions = [str(a) for a in as_list(stmt.get("Action"))]
        resources = [str(r) for r in as_list(stmt.get("Resource"))]
        if "NotAction" in stmt:
            yield f"statement {i} allows NotAction, which grants every other action"
        elif any(a in ("*", "*:*") for a in actions):
            yield f"statement {i} allows Action '*'"
        elif "*" in resources and (wild := [a for a in actions if a.endswith(":*")]):
            yield f"statement {i} allows {', '.join(wild)} on Resource '*'"


@resource_rule(
    RULES,
    id="iam-no-admin-grants",
    description="No IAM policy grants Action '*', a whole service on Resource '*', or an admin managed policy.",
    severity="critical",
    types=POLICY_DOC_TYPES + ATTACHMENT_TYPES + (ROLE,),
    remediation="List the actions and resource ARNs the workload needs; never attach AdministratorAccess.",
)
def no_admin_grants(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    if ctx.resource_type in ATTACHMENT_TYPES:
        arn = str(get(props, "policyArn", default=""))
        if arn.rsplit("/", 1)[-1] in ADMIN_MANAGED_POLICIES and ":aws:policy/" in arn:
            yield f"attaches the AWS managed admin policy {arn}"
        return
    if ctx.resource_type == ROLE:
        for inline in as_list(get(props, "inlinePolicies")):
            for finding in _admin_findings(get(inline, "policy")):
                yield f"inline policy {get(inline, 'name', default='?')}: {finding}"
        return
    yield from _admin_findings(get(props, "policy"))
