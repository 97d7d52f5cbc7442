"""Helm releases: pinned chart versions from allowlisted repositories, and a safe argo-server.

Why: a release without `version` installs whatever is newest at `pulumi up` time, so two runs of
the same commit deploy different software; a chart from an arbitrary repository is unreviewed
code running with the release's RBAC; and argo-server in `server` auth mode hands every caller the
server's own service account (full Argo access without logging in).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ._core import Context, Rule, as_list, get, resource_rule

RULES: list[Rule] = []

RELEASE = "kubernetes:helm.sh/v3:Release"
CHART_V4 = "kubernetes:helm.sh/v4:Chart"
HELM_TYPES = (RELEASE, CHART_V4)
EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
DEFAULT_REPOSITORIES = [
    "https://argoproj.github.io/argo-helm",
    "https://prometheus-community.github.io/helm-charts",
    "https://helm.ngc.nvidia.com/nvidia",
    "https://nvidia.github.io/k8s-device-plugin",
    "oci://public.ecr.aws/karpenter",
    "https://cloudnative-pg.github.io/charts",
    "https://seaweedfs.github.io/seaweedfs/helm",
    "https://aws.github.io/eks-charts",
]


def _local_chart(chart: str) -> bool:
    return chart.startswith(("./", "../", "/")) or (chart.endswith(".tgz") and "://" not in chart)


def chart_source(props: Mapping[str, Any]) -> str | None:
    """Where the chart comes from: `repositoryOpts.repo`, or the URL/OCI reference in `chart`."""
    repo = get(props, "repositoryOpts", "repo")
    if repo:
        return str(repo).rstrip("/")
    chart = str(get(props, "chart", default=""))
    if "://" in chart:
        return chart.rsplit("/", 1)[0].rstrip("/")
    return None


def chart_name(props: Mapping[str, Any]) -> str:
    """The bare chart name (`argo-workflows`) from `chart` in any of its forms."""
    chart = str(get(props, "chart", default=""))
    return chart.rstrip("/").rsplit("/", 1)[-1].split(":", 1)[0]


@resource_rule(
    RULES,
    id="helm-chart-version-pinned",
    description="Helm releases pin the chart to an exact version (no missing version, ranges or wildcards).",
    severity="high",
    types=HELM_TYPES,
    remediation="Set version to an exact chart version, pinned in components/config.py.",
)
def chart_version_pinned(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    chart = str(get(props, "chart", default=""))
    if _local_chart(chart):
        return  # a chart in the repo is versioned by the commit
    version = get(props, "version")
    if version is None or str(version).strip() == "":
        yield f"chart {chart_name(props)} has no version; Helm would install the latest"
    elif not EXACT_VERSION.match(str(version)):
        yield f"chart {chart_name(props)} version {version!r} is not an exact version"


@resource_rule(
    RULES,
    id="helm-repository-allowlist",
    description="Helm charts come only from allowlisted repositories.",
    severity="high",
    types=HELM_TYPES,
    config={
        "allowedRepositories": {
            "type": "array",
            "items": {"type": "string"},
            "default": DEFAULT_REPOSITORIES,
            "description": "Repository URLs (https:// or oci://) charts may come from.",
        }
    },
    remediation="Use a chart from an allowlisted repository, or add the repository to the pack config after review.",
)
def repository_allowlist(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    chart = str(get(props, "chart", default=""))
    if _local_chart(chart):
        return
    source = chart_source(props)
    allowed = [str(a).rstrip("/") for a in ctx.config["allowedRepositories"]]
    if source is None:
        yield f"chart {chart!r} names no repository; it would resolve against the deployer's local helm repos"
    elif source not in allowed:
        yield f"chart {chart_name(props)} comes from {source}, which is not allowlisted"


def _auth_modes(server: Mapping[str, Any]) -> list[str]:
    modes = [str(m) for m in as_list(get(server, "authModes"))]
    if get(server, "authMode") is not None:
        modes.append(str(get(server, "authMode")))
    args = [str(a) for a in as_list(get(server, "extraArgs"))]
    for i, arg in enumerate(args):
        if arg.startswith("--auth-mode="):
            modes += arg.split("=", 1)[1].split(",")
        elif arg == "--auth-mode" and i + 1 < len(args):
            modes.append(args[i + 1])
    return modes


@resource_rule(
    RULES,
    id="argo-server-auth-mode",
    description="argo-server never runs in 'server' auth mode (client or sso only).",
    severity="critical",
    types=HELM_TYPES,
    config={
        "argoCharts": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["argo-workflows"],
            "description": "Chart names that deploy argo-server.",
        }
    },
    remediation="Set values.server.authModes to ['client'] or ['sso'].",
)
def argo_server_auth_mode(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    if chart_name(props) not in ctx.config["argoCharts"]:
        return
    server = get(props, "values", "server", default={})
    if "server" in _auth_modes(server):
        yield "argo-server auth mode includes 'server'; every caller would act as argo-server's service account"
