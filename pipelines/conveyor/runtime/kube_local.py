"""`conveyor.kubernetes` settings in local mode: where secrets, config maps and PVCs come from.

* Secret key: env var `CONVEYOR_SECRET_<NAME>_<KEY>` (upper case, other characters `_`), else the
  YAML/JSON mapping file named by `CONVEYOR_SECRETS_FILE` (`{secret-name: {key: value}}`).
* ConfigMap key: `CONVEYOR_CONFIGMAP_<NAME>_<KEY>`, else the file named by `CONVEYOR_CONFIGMAPS_FILE`.
* Volumes: a secret or config map volume is a folder of one file per key (secrets: mode 0700 under
  the run folder, removed when the run ends); a PVC is the folder `CONVEYOR_HOME/pvcs/<name>`, kept
  across runs like a claim. The task sees it at `mount_path` through a symlink (created if the path
  is free and its parent writable). `mount_pvc(sub_path=...)` links the claim folder's subfolder
  (created if missing, as the kubelet does). An emptyDir or generic ephemeral volume is a fresh folder
  per attempt under the run folder, removed when the attempt ends.
* Field-path env (`use_field_path_as_env`): `metadata.name` is the task instance id (what
  `CONVEYOR_TASK_ID` holds), `metadata.namespace` is "local", `metadata.uid` a fresh UUID per attempt,
  `metadata.labels['K']`/`metadata.annotations['K']` the task's `add_pod_label`/`add_pod_annotation`
  value ("" when unset, as for a missing label on a pod), `spec.nodeName` this host's name, and the
  `status.*IP(s)` fields 127.0.0.1. `spec.serviceAccountName` has no local meaning: the run is refused.
* Node selectors, tolerations, node affinity and the security context only matter to a cluster:
  recorded in the spec, ignored here.

A secret or config map named at run time (a pipeline parameter, a loop item, an upstream output) is
looked up by its resolved name when the task is ready (`check_runtime_names`): a missing key fails
that task, not the run.

Values only ever reach the task's environment or its mount folder; never the spec, metadata, logs
or an exception message (errors name the secret, the key and where to set them).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from conveyor.ir.kubernetes import KubernetesSettings, name_args


class LocalKubernetesError(ValueError):
    """A secret/config map key or mount path that local mode cannot provide; says what to set."""


def env_name(prefix: str, name: str, key: str) -> str:
    return f"{prefix}_{re.sub(r'[^A-Za-z0-9]', '_', name).upper()}_{re.sub(r'[^A-Za-z0-9]', '_', key).upper()}"


def _mapping(var: str) -> dict[str, Any]:
    path = os.environ.get(var)
    if not path:
        return {}
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise LocalKubernetesError(f"{var}={path}: cannot read it ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise LocalKubernetesError(f"{var}={path}: expected a mapping of name: {{key: value}}")
    return data


_KINDS = {"secret": ("CONVEYOR_SECRET", "CONVEYOR_SECRETS_FILE"),
          "config map": ("CONVEYOR_CONFIGMAP", "CONVEYOR_CONFIGMAPS_FILE")}


def lookup(kind: str, name: str, key: str, task: str, optional: bool = False) -> str | None:
    prefix, file_var = _KINDS[kind]
    var = env_name(prefix, name, key)
    if var in os.environ:
        return os.environ[var]
    entry = _mapping(file_var).get(name) or {}
    if isinstance(entry, dict) and key in entry:
        value = entry[key]
        return value if isinstance(value, str) else json.dumps(value)
    if optional:
        return None
    raise LocalKubernetesError(f"task {task!r}: {kind} {name!r} key {key!r} is not set locally; set {var} or add "
                               f"{{{name}: {{{key}: ...}}}} to the file named by {file_var}")


def _keys(kind: str, name: str) -> dict[str, str]:
    prefix, file_var = _KINDS[kind]
    entry = _mapping(file_var).get(name) or {}
    found = {k: (v if isinstance(v, str) else json.dumps(v)) for k, v in entry.items()} if isinstance(entry, dict) else {}
    head = env_name(prefix, name, "")
    found.update({k[len(head):].lower(): v for k, v in os.environ.items() if k.startswith(head) and k != head})
    return found


_NAMED = (("secret_env", "secret_name"), ("secret_volumes", "secret_name"),
          ("config_map_env", "config_map_name"), ("config_map_volumes", "config_map_name"))


def resolved(settings: KubernetesSettings, resolve: Callable[[Any], Any]) -> KubernetesSettings:
    """`settings` with every secret and config map name given at run time replaced by its value."""
    return settings.model_copy(update={field: tuple(
        item if isinstance(getattr(item, attr), str) else item.model_copy(update={attr: str(resolve(getattr(item, attr)))})
        for item in getattr(settings, field)) for field, attr in _NAMED})


def check_runtime_names(settings: KubernetesSettings, task: str, resolve: Callable[[Any], Any]) -> None:
    """A ready task whose secret or config map is named at run time: fail it when a required key is missing."""
    if name_args(settings):
        check(resolved(settings, resolve), task)


def check(settings: KubernetesSettings, task: str) -> None:
    """Fail before the run starts when a required key is missing (nothing is recorded yet); a name given
    at run time is checked when its task is ready (`check_runtime_names`)."""
    for ref in settings.secret_env:
        if isinstance(ref.secret_name, str):
            lookup("secret", ref.secret_name, ref.key, task, ref.optional)
    for ref in settings.config_map_env:
        if isinstance(ref.config_map_name, str):
            lookup("config map", ref.config_map_name, ref.key, task, ref.optional)
    for vol in settings.secret_volumes:
        if isinstance(vol.secret_name, str) and not vol.optional and not _keys("secret", vol.secret_name):
            raise LocalKubernetesError(f"task {task!r}: secret {vol.secret_name!r} (a volume at {vol.mount_path}) has "
                                       f"no keys locally; set {env_name('CONVEYOR_SECRET', vol.secret_name, 'KEY')} "
                                       "or add it to the file named by CONVEYOR_SECRETS_FILE")
    for ref in settings.field_path_env:
        if ref.field_path in _NO_LOCAL_FIELD:
            raise LocalKubernetesError(f"task {task!r}: env {ref.env} reads the pod field {ref.field_path!r}, which "
                                       "has no local value; run on a cluster, or set the value with set_env_variable")


_NO_LOCAL_FIELD = ("spec.serviceAccountName",)
_LOCAL_FIELDS = {"metadata.namespace": "local", "status.hostIP": "127.0.0.1", "status.hostIPs": "127.0.0.1",
                 "status.podIP": "127.0.0.1", "status.podIPs": "127.0.0.1"}


def field_value(settings: KubernetesSettings, field_path: str, instance: str) -> str:
    """The local stand-in for pod field `field_path` (see the module docstring)."""
    if field_path in _LOCAL_FIELDS:
        return _LOCAL_FIELDS[field_path]
    if field_path == "metadata.name":
        return instance
    if field_path == "metadata.uid":
        return str(uuid.uuid4())
    if field_path == "spec.nodeName":
        return socket.gethostname()
    match = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", field_path)
    if match:
        found = settings.pod_labels if match.group(1) == "labels" else settings.pod_annotations
        return found.get(match.group(2), "")
    raise LocalKubernetesError(f"field path {field_path!r} has no local value")


def _scratch(run_dir: Path, instance: str) -> Path:
    return run_dir / "mounts" / instance / "scratch"


def pvc_folder(home: Path, claim: str) -> Path:
    """The local stand-in for PersistentVolumeClaim `claim` (mount_pvc, CreatePVC and DeletePVC agree)."""
    if not claim or "/" in claim or claim in (".", ".."):
        raise LocalKubernetesError(f"PVC name {claim!r} is not a valid claim name")
    return home / "pvcs" / claim


def _link(target: Path, mount_path: str, task: str) -> None:
    link = Path(mount_path)
    if link.is_symlink() and link.resolve() == target.resolve():
        return
    if link.is_symlink():
        link.unlink()
    try:
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(target, target_is_directory=True)
    except OSError as exc:
        raise LocalKubernetesError(f"task {task!r}: cannot make {mount_path} point at {target} locally "
                                   f"({exc.strerror or exc}); use a mount path this user can create, or run on a "
                                   "cluster") from None


def prepare(settings: KubernetesSettings, task: str, instance: str, run_dir: Path, home: Path,
            resolve: Callable[[Any], Any]) -> dict[str, str]:
    """The env vars for one task attempt; links its volumes into place."""
    settings = resolved(settings, resolve)
    env: dict[str, str] = {}
    for ref in settings.secret_env:
        value = lookup("secret", ref.secret_name, ref.key, task, ref.optional)
        if value is not None:
            env[ref.env] = value
    for ref in settings.config_map_env:
        value = lookup("config map", ref.config_map_name, ref.key, task, ref.optional)
        if value is not None:
            env[ref.env] = value
    for kind, vols, attr in (("secret", settings.secret_volumes, "secret_name"),
                             ("config map", settings.config_map_volumes, "config_map_name")):
        for vol in vols:
            name = getattr(vol, attr)
            folder = run_dir / "mounts" / instance / f"{kind.replace(' ', '')}-{name}"
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            for key, value in _keys(kind, name).items():
                (folder / key).write_text(value)
            _link(folder, vol.mount_path, task)
    for mount in settings.pvc_mounts:
        claim = str(resolve(mount.pvc_name))
        folder = pvc_folder(home, claim)
        target = folder / mount.sub_path if mount.sub_path else folder
        target.mkdir(parents=True, exist_ok=True)
        _link(target, mount.mount_path, task)
    for ref in settings.field_path_env:
        env[ref.env] = field_value(settings, ref.field_path, instance)
    scratch = _scratch(run_dir, instance)
    shutil.rmtree(scratch, ignore_errors=True)  # an emptyDir starts empty in every pod: every attempt
    for vol in (*settings.empty_dir_mounts, *settings.ephemeral_volumes):
        folder = scratch / vol.volume_name
        folder.mkdir(parents=True)
        _link(folder, vol.mount_path, task)
    return env


def release(settings: KubernetesSettings, run_dir: Path, instance: str) -> None:
    """An ended attempt's emptyDir and ephemeral volumes: gone, as with the pod."""
    if settings.empty_dir_mounts or settings.ephemeral_volumes:
        shutil.rmtree(_scratch(run_dir, instance), ignore_errors=True)


def cleanup(run_dir: Path) -> None:
    """Secret and config map files of a finished run."""
    shutil.rmtree(run_dir / "mounts", ignore_errors=True)
