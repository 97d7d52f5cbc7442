"""Argo version pins for the test cluster harness.

Kept apart from the Kubernetes pins (``tests/cluster/pins.py``, owned by the k8s harness) only until
both land on main; then this section folds into that one file. v4.0.5 is the newest v4 release the
Go module proxy serves here (v4.1.x is not available); the project's JSON schema is v4.1.2's, a
superset for every field the compiler emits.
"""

ARGO_MODULE = "github.com/argoproj/argo-workflows/v4"
ARGO_VERSION = "v4.0.5"
# The executor image the controller is told to use (imported with `ctr -n k8s.io images import`).
ARGOEXEC_IMAGE = f"conveyor.local/argoexec:{ARGO_VERSION}"
