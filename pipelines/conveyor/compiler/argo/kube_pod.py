"""`TaskSpec.kubernetes` (conveyor.kubernetes / kfp-kubernetes) onto the pod: env from Secrets,
ConfigMaps and pod fields, secret/configMap/PVC/emptyDir/generic ephemeral volumes, node affinity and
the container's security context, as kfp's driver builds them. A PVC, Secret or ConfigMap whose name
is not a constant (a pipeline parameter, a loop item, an upstream output such as CreatePVC's) reaches
the template as an input parameter substituted into the pod spec."""

from __future__ import annotations

from dataclasses import dataclass, field

import hera.workflows.models as m

from conveyor.compiler.argo.options import CompileError
from conveyor.ir.kubernetes import KubernetesSettings, Name, NodeAffinityTerm, name_args
from conveyor.ir.values import Constant

NAME_PARAM = "conveyor-{}"  # conveyor-pvc-0, conveyor-secret-env-1, ...


@dataclass
class PodVolumes:
    env: list[m.EnvVar] = field(default_factory=list)
    volumes: list[m.Volume] = field(default_factory=list)
    mounts: list[m.VolumeMount] = field(default_factory=list)
    params: list[str] = field(default_factory=list)  # template input parameters carrying run-time names


def name_params(settings: KubernetesSettings) -> dict[str, object]:
    """Input parameter name -> the IR argument holding the name, for every non-constant PVC, Secret or
    ConfigMap name (the DAG task passes it; the pod spec reads `{{inputs.parameters.<name>}}`)."""
    return {NAME_PARAM.format(key): arg for key, arg in name_args(settings).items()}


def _name(value: Name, key: str, out: PodVolumes) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Constant):
        return str(value.value)
    param = NAME_PARAM.format(key)
    out.params.append(param)
    return f"{{{{inputs.parameters.{param}}}}}"


def pod_volumes(settings: KubernetesSettings) -> PodVolumes:
    out = PodVolumes()
    for i, ref in enumerate(settings.secret_env):
        out.env.append(m.EnvVar(name=ref.env, value_from=m.EnvVarSource(secret_key_ref=m.SecretKeySelector(
            name=_name(ref.secret_name, f"secret-env-{i}", out), key=ref.key, optional=ref.optional or None))))
    for i, ref in enumerate(settings.config_map_env):
        out.env.append(m.EnvVar(name=ref.env, value_from=m.EnvVarSource(config_map_key_ref=m.ConfigMapKeySelector(
            name=_name(ref.config_map_name, f"configmap-env-{i}", out), key=ref.key, optional=ref.optional or None))))
    for i, vol in enumerate(settings.secret_volumes):
        name = f"secret-{i}"
        out.volumes.append(m.Volume(name=name, secret=m.SecretVolumeSource(
            secret_name=_name(vol.secret_name, f"secret-volume-{i}", out), optional=vol.optional or None)))
        out.mounts.append(m.VolumeMount(name=name, mount_path=vol.mount_path, read_only=True))
    for i, vol in enumerate(settings.config_map_volumes):
        name = f"configmap-{i}"
        out.volumes.append(m.Volume(name=name, config_map=m.ConfigMapVolumeSource(
            name=_name(vol.config_map_name, f"configmap-volume-{i}", out), optional=vol.optional or None)))
        out.mounts.append(m.VolumeMount(name=name, mount_path=vol.mount_path))
    for i, mount in enumerate(settings.pvc_mounts):
        name = f"pvc-{i}"
        out.volumes.append(m.Volume(name=name, persistent_volume_claim=m.PersistentVolumeClaimVolumeSource(
            claim_name=_name(mount.pvc_name, f"pvc-{i}", out))))
        out.mounts.append(m.VolumeMount(name=name, mount_path=mount.mount_path, sub_path=mount.sub_path))
    for ref in settings.field_path_env:
        out.env.append(m.EnvVar(name=ref.env, value_from=m.EnvVarSource(field_ref=m.ObjectFieldSelector(
            field_path=ref.field_path))))
    for vol in settings.empty_dir_mounts:
        out.volumes.append(m.Volume(name=vol.volume_name, empty_dir=m.EmptyDirVolumeSource(
            medium=vol.medium, size_limit=m.Quantity(vol.size_limit) if vol.size_limit else None)))
        out.mounts.append(m.VolumeMount(name=vol.volume_name, mount_path=vol.mount_path))
    for vol in settings.ephemeral_volumes:
        template = m.PersistentVolumeClaimTemplate(
            metadata=m.ObjectMeta(labels=dict(vol.labels) or None, annotations=dict(vol.annotations) or None)
            if vol.labels or vol.annotations else None,
            spec=m.PersistentVolumeClaimSpec(access_modes=list(vol.access_modes),
                                             storage_class_name=vol.storage_class_name,
                                             resources=m.VolumeResourceRequirements(requests={"storage": m.Quantity(vol.size)})))
        out.volumes.append(m.Volume(name=vol.volume_name, ephemeral=m.EphemeralVolumeSource(volume_claim_template=template)))
        out.mounts.append(m.VolumeMount(name=vol.volume_name, mount_path=vol.mount_path))
    return out


def _selector_term(expressions: list, fields: list) -> m.NodeSelectorTerm:
    def reqs(items: list) -> list[m.NodeSelectorRequirement] | None:
        return [m.NodeSelectorRequirement(key=r["key"], operator=r["operator"], values=list(r.get("values") or []) or None)
                for r in items] or None
    return m.NodeSelectorTerm(match_expressions=reqs(expressions), match_fields=reqs(fields))


def node_affinity(terms: tuple[NodeAffinityTerm, ...]) -> m.Affinity | None:
    """kfp's driver: unweighted terms are required (any one must match), weighted ones preferred; a JSON
    object's required terms and preferences are added to those."""
    required: list[m.NodeSelectorTerm] = []
    preferred: list[m.PreferredSchedulingTerm] = []
    for term in terms:
        if term.node_affinity_json is not None:
            spec = term.node_affinity_json
            for t in (spec.get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms", []):
                required.append(_selector_term(t.get("matchExpressions") or [], t.get("matchFields") or []))
            for p in spec.get("preferredDuringSchedulingIgnoredDuringExecution") or []:
                pref = p["preference"]
                preferred.append(m.PreferredSchedulingTerm(weight=p["weight"], preference=_selector_term(
                    pref.get("matchExpressions") or [], pref.get("matchFields") or [])))
            continue
        selector = _selector_term([r.model_dump() for r in term.match_expressions],
                                  [r.model_dump() for r in term.match_fields])
        if term.weight is None:
            required.append(selector)
        else:
            preferred.append(m.PreferredSchedulingTerm(weight=term.weight, preference=selector))
    if not required and not preferred:
        return None
    return m.Affinity(node_affinity=m.NodeAffinity(
        required_during_scheduling_ignored_during_execution=m.NodeSelector(node_selector_terms=required) if required else None,
        preferred_during_scheduling_ignored_during_execution=preferred or None))


def security_context(settings: KubernetesSettings) -> m.SecurityContext | None:
    """kfp's `set_security_context`: the identity fields given, and every capability dropped (as kfp's driver)."""
    ctx = settings.security_context
    if ctx is None:
        return None
    return m.SecurityContext(run_as_user=ctx.run_as_user, run_as_group=ctx.run_as_group,
                             run_as_non_root=ctx.run_as_non_root, capabilities=m.Capabilities(drop=["ALL"]))


def check_mounts(mounts: list[m.VolumeMount], volumes: list[m.Volume], what: str) -> None:
    """Kubernetes refuses a pod with two volumes of one name or two mounts at one path: say so at compile time."""
    for kind, values in (("volume name", [v.name for v in volumes]), ("mount path", [mt.mount_path for mt in mounts])):
        twice = sorted({v for v in values if values.count(v) > 1})
        if twice:
            raise CompileError(f"{what}: {kind} {twice[0]!r} is used twice in one pod; give each volume its own")
