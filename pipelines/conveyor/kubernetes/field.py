"""kfp-kubernetes' `use_field_path_as_env`: a pod field (the Downward API) as an env var.

On Argo: the container env `valueFrom.fieldRef.fieldPath`. Locally (`conveyor.runtime.kube_local`)
the field's local equivalent: `metadata.name` the task instance id, `metadata.namespace` "local",
labels and annotations those set with `add_pod_label`/`add_pod_annotation`, and so on;
`spec.serviceAccountName` has none and stops the run before it starts.
"""

from __future__ import annotations

from typing import Any

from conveyor.ir.kubernetes import FIELD_PATH
from conveyor.kubernetes import _append, _error, _name


def use_field_path_as_env(task: Any, env_name: str, field_path: str) -> Any:
    if not isinstance(field_path, str) or not FIELD_PATH.fullmatch(field_path):
        raise _error(task, f"{field_path!r} is not a field an env var can read; one of metadata.name, "
                           "metadata.namespace, metadata.uid, metadata.labels['KEY'], metadata.annotations['KEY'], "
                           "spec.nodeName, spec.serviceAccountName, status.hostIP(s), status.podIP(s)", "field_path")
    return _append(task, "field_path_env", {"env": _name(task, env_name, "env_name"), "field_path": field_path})
