"""Every version pin of the test cluster harness, in one place.

The harness builds upstream components from the Go module proxy (nothing else can
be downloaded here), so a version is a Go module version.  Each pin says which
module to require, which of its packages become binaries, and what a build needs
beyond ``go build`` (tags, version ldflags, a staging-module rewrite).  The build
cache (``build.py``) keys its directories by ``name-version``, so bumping a pin
here is the whole upgrade: the next run builds the new version beside the old.

Host packages that come from Debian (the CNI plugins, busybox, libseccomp) are not
pinned here: Debian's stable release pins them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class GoComponent:
    """One upstream Go module built into ``<cache>/<name>-<version>/bin``."""

    name: str
    module: str
    version: str
    # Package path -> binary name.
    binaries: dict[str, str]
    tags: tuple[str, ...] = ()
    # -X assignments; "{version}" is replaced by the pinned version.
    ldflags_x: dict[str, str] = field(default_factory=dict)
    # Replace every k8s.io/* module that upstream's go.mod points at ./staging with
    # the matching v0.X.Y release (k8s.io/kubernetes only).
    k8s_staging: bool = False
    cgo: bool = False

    @property
    def key(self) -> str:
        return f"{self.name}-{self.version}"


_K8S_VERSION = "v1.34.4"
# 1.34: the last minor whose kubelet runs on cgroup v1 without opting out of
# failCgroupV1 (this VM has cgroup v1 controllers only).
KUBERNETES = GoComponent(
    name="kubernetes",
    module="k8s.io/kubernetes",
    version=_K8S_VERSION,
    binaries={
        f"k8s.io/kubernetes/cmd/{b}": b
        for b in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "kubectl")
    },
    ldflags_x={
        "k8s.io/component-base/version.gitVersion": "{version}",
        "k8s.io/component-base/version.gitMajor": "1",
        "k8s.io/component-base/version.gitMinor": "34",
        "k8s.io/component-base/version.gitTreeState": "clean",
        "k8s.io/client-go/pkg/version.gitVersion": "{version}",
        "k8s.io/client-go/pkg/version.gitMajor": "1",
        "k8s.io/client-go/pkg/version.gitMinor": "34",
    },
    k8s_staging=True,
)

# The etcd release line Kubernetes 1.34 is tested against (its go.mod requires 3.6.x).
ETCD = GoComponent(
    name="etcd",
    module="go.etcd.io/etcd/server/v3",
    version="v3.6.4",
    binaries={"go.etcd.io/etcd/server/v3": "etcd"},
)

# The kubelet needs containerd >= 1.7.28 or 2.x; Debian ships 1.6.20.
CONTAINERD = GoComponent(
    name="containerd",
    module="github.com/containerd/containerd/v2",
    version="v2.1.5",
    binaries={
        "github.com/containerd/containerd/v2/cmd/containerd": "containerd",
        "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2": "containerd-shim-runc-v2",
        "github.com/containerd/containerd/v2/cmd/ctr": "ctr",
    },
    tags=("no_btrfs",),
    ldflags_x={"github.com/containerd/containerd/v2/version.Version": "{version}"},
)

# Debian's runc 1.1.5 cannot start containerd 2.1's pod sandboxes on this kernel ("runc create
# failed: can't get final child's PID from pipe: EOF"), so runc is built too. Its nsenter is C:
# cgo, and the seccomp tag links Debian's libseccomp-dev.
RUNC = GoComponent(
    name="runc",
    module="github.com/opencontainers/runc",
    version="v1.3.7",
    binaries={"github.com/opencontainers/runc": "runc"},
    tags=("seccomp", "urfave_cli_no_docs"),
    ldflags_x={"main.version": "{version}"},
    cgo=True,
)

# Build order: the quick ones first, so a broken toolchain shows up early.
K8S_COMPONENTS: tuple[GoComponent, ...] = (ETCD, RUNC, CONTAINERD, KUBERNETES)

# Kubernetes API objects the harness itself creates.
CLUSTER_DOMAIN = "cluster.local"
SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.0/16"
PAUSE_IMAGE = "registry.k8s.io/pause:3.10"

# Argo Workflows: v4.0.5 is the newest v4 the Go module proxy serves here (v4.1.x is not available);
# the project's JSON schema is v4.1.2's, a superset of every field the compiler emits.
# Built by argo_build.py (the CLI embeds ui/dist, so it builds from a patched copy of the module).
ARGO = GoComponent(
    name="argo",
    module="github.com/argoproj/argo-workflows/v4",
    version="v4.0.5",
    binaries={f"github.com/argoproj/argo-workflows/v4/cmd/{b}": b for b in ("workflow-controller", "argoexec", "argo")},
    ldflags_x={f"github.com/argoproj/argo-workflows/v4.{k}": "{version}" for k in ("version", "gitTag", "gitCommit")}
    | {"github.com/argoproj/argo-workflows/v4.gitTreeState": "clean"},
)
# The executor image the controller is told to use (imported with `ctr -n k8s.io images import`).
ARGOEXEC_IMAGE = f"conveyor.local/argoexec:{ARGO.version}"
# The controller as an in-cluster Deployment (the `local` stack's deploy, issue 14); 8737 is the
# user upstream's image runs as.
CONTROLLER_IMAGE = f"conveyor.local/workflow-controller:{ARGO.version}"
CONTROLLER_USER = "8737"

# --- The real Pulumi engine (issue 14), built by pulumi_build.py into the same cache -------------
# The proxy serves pkg/v3 up to v3.276.0; PyPI here has the Python SDK up to 3.272.0 (pyproject
# pins that; the engine speaks the same gRPC protocol to any 3.x SDK).
PULUMI = GoComponent(
    name="pulumi",
    module="github.com/pulumi/pulumi/pkg/v3",
    version="v3.276.0",
    binaries={"github.com/pulumi/pulumi/pkg/v3/cmd/pulumi": "pulumi"},
    ldflags_x={"github.com/pulumi/pulumi/sdk/v3/go/common/version.Version": "{version}"},
)
# The Python language host (Python programs and Python policy packs both run through it). Since
# v3.7x it is its own module (sdk/python/cmd/pulumi-language-python/v3), which the proxy here does
# not serve; v3.68.0 is the newest sdk/v3 that still holds it as a package. Its shims
# (pulumi-language-python-exec, the dynamic-provider and policy-analyzer scripts) are copied from
# the same module.
PULUMI_LANGUAGE_PYTHON = GoComponent(
    name="pulumi-language-python",
    module="github.com/pulumi/pulumi/sdk/v3",
    version="v3.68.0",
    binaries={"github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python": "pulumi-language-python"},
    ldflags_x={"github.com/pulumi/pulumi/sdk/v3/go/common/version.Version": "{version}"},
)
# The repository tags releases `v4.25.0` (not `provider/v4.25.0`), so the proxy serves the provider
# module only under the tag commit's pseudo-version; the sdk/v4 module it replaces with ../sdk is
# taken at the same release. PULUMI_KUBERNETES_RELEASE is the plugin version and the PyPI pin.
PULUMI_KUBERNETES_RELEASE = "4.25.0"
PULUMI_KUBERNETES = GoComponent(
    name="pulumi-resource-kubernetes",
    module="github.com/pulumi/pulumi-kubernetes/provider/v4",
    version="v4.0.0-20260115033456-f47bc2d6f199",
    binaries={
        "github.com/pulumi/pulumi-kubernetes/provider/v4/cmd/pulumi-resource-kubernetes": "pulumi-resource-kubernetes"
    },
    ldflags_x={"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version": PULUMI_KUBERNETES_RELEASE},
)
PULUMI_COMPONENTS: tuple[GoComponent, ...] = (PULUMI_LANGUAGE_PYTHON, PULUMI_KUBERNETES, PULUMI)
# The upstream manifests the air-gapped `local` deploy installs from Go modules (no chart repo).
PROMETHEUS_OPERATOR = GoComponent(
    name="prometheus-operator",
    module="github.com/prometheus-operator/prometheus-operator",
    version="v0.85.0",
    binaries={},
)
