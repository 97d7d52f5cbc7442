"""`TaskSpec.kubernetes` (conveyor.kubernetes / kfp-kubernetes) onto the pod: env from Secrets and
ConfigMaps, secret/configMap/PVC volumes, pod labels and annotations. A PVC whose name is not a
constant (a pipeline parameter, CreatePVC's output) reaches the template as an input parameter."""

from __future__ import annotations

from dataclasses import dataclass, field

import hera.workflows.models as m

from conveyor.ir.kubernetes import KubernetesSettings
from conveyor.ir.values import Constant

PVC_PARAM = "conveyor-pvc-{}"


@dataclass
class PodVolumes:
    env: list[m.EnvVar] = field(default_factory=list)
    volumes: list[m.Volume] = field(default_factory=list)
    mounts: list[m.VolumeMount] = field(default_factory=list)
    params: list[str] = field(default_factory=list)  # template input parameters carrying PVC names


def pvc_params(settings: KubernetesSettings) -> dict[str, object]:
    """Input parameter name -> the IR argument holding the claim name, for non-constant PVC names."""
    return {PVC_PARAM.format(i): mount.pvc_name for i, mount in enumerate(settings.pvc_mounts)
            if not isinstance(mount.pvc_name, Constant)}


def pod_volumes(settings: KubernetesSettings) -> PodVolumes:
    out = PodVolumes()
    for ref in settings.secret_env:
        out.env.append(m.EnvVar(name=ref.env, value_from=m.EnvVarSource(secret_key_ref=m.SecretKeySelector(
            name=ref.secret_name, key=ref.key, optional=ref.optional or None))))
    for ref in settings.config_map_env:
        out.env.append(m.EnvVar(name=ref.env, value_from=m.EnvVarSource(config_map_key_ref=m.ConfigMapKeySelector(
            name=ref.config_map_name, key=ref.key, optional=ref.optional or None))))
    for i, vol in enumerate(settings.secret_volumes):
        name = f"secret-{i}"
        out.volumes.append(m.Volume(name=name, secret=m.SecretVolumeSource(secret_name=vol.secret_name,
                                                                           optional=vol.optional or None)))
        out.mounts.append(m.VolumeMount(name=name, mount_path=vol.mount_path, read_only=True))
    for i, vol in enumerate(settings.config_map_volumes):
        name = f"configmap-{i}"
        out.volumes.append(m.Volume(name=name, config_map=m.ConfigMapVolumeSource(name=vol.config_map_name,
                                                                                  optional=vol.optional or None)))
        out.mounts.append(m.VolumeMount(name=name, mount_path=vol.mount_path))
    for i, mount in enumerate(settings.pvc_mounts):
        name = f"pvc-{i}"
        if isinstance(mount.pvc_name, Constant):
            claim = str(mount.pvc_name.value)
        else:
            param = PVC_PARAM.format(i)
            out.params.append(param)
            claim = f"{{{{inputs.parameters.{param}}}}}"
        out.volumes.append(m.Volume(name=name, persistent_volume_claim=m.PersistentVolumeClaimVolumeSource(
            claim_name=claim)))
        out.mounts.append(m.VolumeMount(name=name, mount_path=mount.mount_path, sub_path=mount.sub_path))
    return out
