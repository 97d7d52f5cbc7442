"""conveyor.kubernetes: kfp-kubernetes' functions (`from conveyor import kubernetes`), recorded in the IR.

Each call takes a task and returns it, as in kfp. Secrets and config maps are recorded by name and
key only. On Argo they become the pod spec's `secretKeyRef`/`configMapKeyRef` env, secret/configMap
volumes, PVC volumes (with `subPath`), emptyDir and generic ephemeral volumes, Downward API env
(`fieldRef`), node selector, tolerations, node affinity, the container's security context, image pull
policy, pod labels and annotations, and `activeDeadlineSeconds`. Locally (see
`conveyor.runtime.kube_local`) a secret key comes from `CONVEYOR_SECRET_<NAME>_<KEY>` or the mapping
file `CONVEYOR_SECRETS_FILE`, a config map key from `CONVEYOR_CONFIGMAP_<NAME>_<KEY>` or the same
file, a PVC is the folder `CONVEYOR_HOME/pvcs/<name>`, an emptyDir or ephemeral volume a fresh folder
per attempt, a field path its local equivalent, and node selectors, tolerations, node affinity and
the security context are recorded and ignored. kfp's submodules (`conveyor.kubernetes.node_affinity`,
`.empty_dir`, `.field`, `.security_context`, `.volume`) import as in kfp.
"""

from __future__ import annotations

import re
from typing import Any

from conveyor.ir import PipelineDefinitionError

_PULL_POLICIES = ("Always", "Never", "IfNotPresent")
_VOLUME_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")  # a DNS-1123 label, as a pod's volume name
_RESERVED_VOLUME = re.compile(r"(secret|configmap|pvc)-\d+|conveyor-.*|kfp-workspace")  # names the compiler gives
_QUANTITY = re.compile(r"\d+(\.\d+)?([KMGTPE]i|[mkMGTPE])?")


def _settings(task: Any) -> dict[str, Any]:
    if not hasattr(task, "to_spec") or not hasattr(task, "state"):
        raise PipelineDefinitionError(f"conveyor.kubernetes functions take a task (a component call), got {task!r}")
    if not hasattr(task, "kubernetes"):
        task.kubernetes = {}
    return task.kubernetes


def _error(task: Any, message: str, argument: str) -> PipelineDefinitionError:
    return task.state.error(message, task=task.name, argument=argument)


def _name(task: Any, value: Any, argument: str) -> str:
    if not isinstance(value, str) or not value:
        raise _error(task, f"must be a non-empty string, got {value!r}", argument)
    return value


def _runtime_name(task: Any, value: Any, argument: str) -> Any:
    """A secret, config map or claim name: a non-empty string, or a pipeline value (a parameter, a loop
    item, an upstream task's output) recorded as the IR argument the task resolves when it runs."""
    from conveyor.dsl.channels import PipelineChannel

    return value.to_arg() if isinstance(value, PipelineChannel) else _name(task, value, argument)


def _mount_path(task: Any, value: Any, argument: str = "mount_path") -> str:
    if not isinstance(value, str) or not value.startswith("/"):
        raise _error(task, f"must be an absolute path, got {value!r}", argument)
    return value


def _volume_name(task: Any, value: Any, argument: str = "volume_name") -> str:
    """A pod volume name: a DNS-1123 label, unique among the task's emptyDir and ephemeral volumes, and
    not one of the names the Argo compiler gives its own volumes."""
    if not isinstance(value, str) or not _VOLUME_NAME.fullmatch(value):
        raise _error(task, f"must be a DNS-1123 label (lower-case letters, digits and '-', at most 63), got {value!r}",
                     argument)
    if _RESERVED_VOLUME.fullmatch(value):
        raise _error(task, f"{value!r} is a volume name conveyor gives its own volumes; choose another", argument)
    settings = _settings(task)
    if any(v["volume_name"] == value for v in settings.get("empty_dir_mounts", []) + settings.get("ephemeral_volumes", [])):
        raise _error(task, f"volume {value!r} is already defined on this task", argument)
    return value


def _quantity(task: Any, value: Any, argument: str) -> str:
    if not isinstance(value, str) or not _QUANTITY.fullmatch(value):
        raise _error(task, f"must be a Kubernetes quantity such as '5Gi' or '500Mi', got {value!r}", argument)
    return value


def _str_map(task: Any, value: Any, argument: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and k for k in value):
        raise _error(task, f"must be a dict of non-empty string keys, got {value!r}", argument)
    return {k: str(v) for k, v in value.items()}


def _append(task: Any, field: str, item: dict[str, Any]) -> Any:
    _settings(task).setdefault(field, []).append(item)
    return task


def _key_to_env(task: Any, field: str, source: str, name: Any, mapping: Any, what: str, optional: bool) -> Any:
    """Secret and config-map keys as env vars: one validation, one record shape for both."""
    name = _runtime_name(task, name, source)
    argument = f"{source.removesuffix('_name')}_key_to_env"
    if not isinstance(mapping, dict) or not mapping:
        raise _error(task, f"must be a non-empty dict of {what}: env var, got {mapping!r}", argument)
    for key, env in mapping.items():
        _append(task, field, {source: name, "key": _name(task, key, what), "env": _name(task, env, "env var"),
                              "optional": bool(optional)})
    return task


def use_secret_as_env(task: Any, secret_name: Any, secret_key_to_env: dict[str, str], optional: bool = False) -> Any:
    return _key_to_env(task, "secret_env", "secret_name", secret_name, secret_key_to_env, "secret key", optional)


def use_secret_as_volume(task: Any, secret_name: Any, mount_path: str, optional: bool = False) -> Any:
    """`secret_name` (here and in `use_secret_as_env` and the config map functions): a name, a pipeline
    parameter, a loop item or an upstream task's output."""
    return _append(task, "secret_volumes", {"secret_name": _runtime_name(task, secret_name, "secret_name"),
                                            "mount_path": _name(task, mount_path, "mount_path"),
                                            "optional": bool(optional)})


def use_config_map_as_env(task: Any, config_map_name: Any, config_map_key_to_env: dict[str, str],
                          optional: bool = False) -> Any:
    return _key_to_env(task, "config_map_env", "config_map_name", config_map_name, config_map_key_to_env, "key",
                       optional)


def use_config_map_as_volume(task: Any, config_map_name: Any, mount_path: str, optional: bool = False) -> Any:
    return _append(task, "config_map_volumes", {"config_map_name": _runtime_name(task, config_map_name,
                                                                                 "config_map_name"),
                                                "mount_path": _name(task, mount_path, "mount_path"),
                                                "optional": bool(optional)})


def mount_pvc(task: Any, pvc_name: Any, mount_path: str, sub_path: str = "") -> Any:
    """`pvc_name`: a claim name, a pipeline parameter, or an upstream task's output. `sub_path`: a
    relative folder of the claim to mount instead of its root (kfp's default "" is the root)."""
    from conveyor.dsl.channels import ConstantChannel

    _name(task, mount_path, "mount_path")  # not checked further: existing pipelines may pass any string
    if not isinstance(sub_path, str) or sub_path.startswith("/") or ".." in sub_path.split("/"):
        raise _error(task, f"must be a relative path inside the claim (no '..'), got {sub_path!r}", "sub_path")
    name = _runtime_name(task, pvc_name, "pvc_name")
    return _append(task, "pvc_mounts", {"pvc_name": ConstantChannel(name, "str").to_arg() if isinstance(name, str) else name,
                                        "mount_path": mount_path,
                                        "sub_path": sub_path.strip("/") or None})


def add_node_selector(task: Any, label_key: str, label_value: str) -> Any:
    return task.set_node_selector({_name(task, label_key, "label_key"): str(label_value)})


def add_toleration(task: Any, key: str | None = None, operator: str = "Equal", value: str | None = None,
                   effect: str | None = None, toleration_seconds: int | None = None) -> Any:
    return task.add_toleration(key=key, operator=operator, value=value, effect=effect,
                               toleration_seconds=toleration_seconds)


def set_timeout(task: Any, seconds: int) -> Any:
    return task.set_timeout(seconds)


def set_image_pull_policy(task: Any, policy: str) -> Any:
    if policy not in _PULL_POLICIES:
        raise _error(task, f"image pull policy {policy!r} is not one of {', '.join(_PULL_POLICIES)}", "policy")
    _settings(task)["image_pull_policy"] = policy
    return task


def set_image_pull_secrets(task: Any, secret_names: list[str]) -> Any:
    names = [_name(task, n, "secret_names") for n in secret_names]
    _settings(task).setdefault("image_pull_secrets", []).extend(names)
    return task


def add_pod_label(task: Any, label_key: str, label_value: str) -> Any:
    _settings(task).setdefault("pod_labels", {})[_name(task, label_key, "label_key")] = str(label_value)
    return task


def add_pod_annotation(task: Any, annotation_key: str, annotation_value: str) -> Any:
    _settings(task).setdefault("pod_annotations", {})[_name(task, annotation_key, "annotation_key")] = str(annotation_value)
    return task


# after the helpers, which these modules use (kfp's module names, so `from ...kubernetes.node_affinity import` works)
from conveyor.kubernetes.empty_dir import empty_dir_mount  # noqa: E402
from conveyor.kubernetes.field import use_field_path_as_env  # noqa: E402
from conveyor.kubernetes.node_affinity import add_node_affinity, add_node_affinity_json  # noqa: E402
from conveyor.kubernetes.pvc import CreatePVC, DeletePVC  # noqa: E402
from conveyor.kubernetes.security_context import set_security_context  # noqa: E402
from conveyor.kubernetes.volume import add_ephemeral_volume  # noqa: E402

__all__ = ["CreatePVC", "DeletePVC", "add_ephemeral_volume", "add_node_affinity", "add_node_affinity_json",
           "add_node_selector", "add_pod_annotation", "add_pod_label", "add_toleration", "empty_dir_mount", "mount_pvc",
           "set_image_pull_policy", "set_image_pull_secrets", "set_security_context", "set_timeout",
           "use_config_map_as_env", "use_config_map_as_volume", "use_field_path_as_env", "use_secret_as_env",
           "use_secret_as_volume"]
