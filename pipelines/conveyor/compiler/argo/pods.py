"""One container template per (component, task settings): the pod that runs one task.

Every pod runs the same one-task runtime as local mode. Its argv is the
contract with ``conveyor.runtime.pod`` (see the package docstring). Tasks that
share a component and identical settings share one template, with the task
name and argument values passed as input parameters, so a 1,000-task DAG of
one component has one template, and a 10,000-item loop still has one.
"""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

import hera.workflows.models as m

from conveyor.compiler.argo.kube_pod import check_mounts, node_affinity, pod_volumes, security_context
from conveyor.compiler.argo.naming import LABEL_KEY_TASK, expr, label_value, param_name
from conveyor.compiler.argo.options import (
    EXIT_PERMANENT,
    EXIT_PREEMPTED,
    OUTPUTS_DIR,
    PIP_CACHE_PATH,
    RUNTIME_MODULE,
    CompileError,
    CompileOptions,
    SecretKeyRef,
)
from conveyor.compiler.argo.placement import Placement
from conveyor.ir import ComponentSpec, ContainerImplementation, PipelineSpec, TaskSpec, workspace

TASK_PARAM = "conveyor-task"
RESOURCE_PARAM = "conveyor-res-{}"  # a cpu/memory setting given a run-time value, e.g. conveyor-res-cpu-limit
_RESOURCE_KEYS = {"cpu_request": ("requests", "cpu"), "cpu_limit": ("limits", "cpu"),
                  "memory_request": ("requests", "memory"), "memory_limit": ("limits", "memory")}


def omitted_param(name: str) -> str:
    """The pod input saying whether input ``name`` falls back to its default (ignore_upstream_failure)."""
    return param_name(f"{name}--omitted")


def resource_param(field: str) -> str:
    return RESOURCE_PARAM.format(field.replace("_", "-"))


def runtime_resources_patch(task: TaskSpec, placement: Placement, what: str) -> str | None:
    """Run-time cpu/memory settings as a podSpecPatch (a container's resources are typed quantities,
    so Argo substitutes parameters only through the patch)."""
    if not task.resource_args:
        return placement.pod_spec_patch
    if placement.pod_spec_patch:
        raise CompileError(f"{what}: cpu/memory set from a run-time value cannot be combined with a spot pool's "
                           "on-demand fallback (both patch the pod); use literal resources or prefer_spot=False")
    resources: dict[str, dict[str, str]] = {}
    for field in sorted(task.resource_args):
        side, key = _RESOURCE_KEYS[field]
        resources.setdefault(side, {})[key] = expr(f"inputs.parameters.{resource_param(field)}")
    return json.dumps({"containers": [{"name": "main", "resources": resources}]}, sort_keys=True)
PIP_CACHE_VOLUME = "conveyor-pip-cache"
TMP_VOLUME, TMP_PATH = "conveyor-tmp", "/tmp"  # holds OUTPUTS_DIR


@dataclass(frozen=True)
class PodContext:
    """What every pod of one workflow shares (built once per compile)."""

    options: CompileOptions
    spec_ref: str
    run_id: str
    env: tuple[m.EnvVar, ...]
    env_from: tuple[m.EnvFromSource, ...]  # the profile's pod_env_secret, on every pod
    image: str | None  # the pipeline's task image; components with a base_image run their own
    workspace: bool = False  # the run has a workspace PVC (dsl.PipelineConfig): every pod mounts it


def cpu_quantity(cores: float) -> str:
    if float(cores).is_integer():
        return str(int(cores))
    return f"{math.ceil(cores * 1000)}m"


def memory_quantity(size: int) -> str:
    for suffix, unit in (("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)):
        if size % unit == 0:
            return f"{size // unit}{suffix}"
    return str(size)


def duration(seconds: float) -> str:
    return f"{int(seconds)}s" if float(seconds).is_integer() else f"{seconds:g}s"


def env_var(name: str, value: str, what: str) -> m.EnvVar:
    """``secret:NAME/KEY`` values become a secretKeyRef; anything else is a literal."""
    if value.startswith("secret:"):
        ref = SecretKeyRef.parse(value[len("secret:") :], f"{what} env {name}")
        return m.EnvVar(
            name=name,
            value_from=m.EnvVarSource(secret_key_ref=m.SecretKeySelector(name=ref.name, key=ref.key)),
        )
    return m.EnvVar(name=name, value=value)


def resources(task: TaskSpec, placement: Placement) -> m.ResourceRequirements | None:
    res = task.resources
    requests: dict[str, m.Quantity] = {}
    limits: dict[str, m.Quantity] = {}
    if res.cpu_request is not None:
        requests["cpu"] = m.Quantity(cpu_quantity(res.cpu_request))
    if res.cpu_limit is not None:
        limits["cpu"] = m.Quantity(cpu_quantity(res.cpu_limit))
    if res.memory_request is not None:
        requests["memory"] = m.Quantity(memory_quantity(res.memory_request))
    if res.memory_limit is not None:
        limits["memory"] = m.Quantity(memory_quantity(res.memory_limit))
    if placement.gpus:
        limits["nvidia.com/gpu"] = m.Quantity(str(placement.gpus))
    if not requests and not limits:
        return None
    return m.ResourceRequirements(requests=requests or None, limits=limits or None)


def retry_strategy(task: TaskSpec, placement: Placement) -> m.RetryStrategy | None:
    """Transient failures retry with backoff; the runtime's permanent exit code never does.

    Argo's backoff ``factor`` is an integer: a fractional IR factor is rounded up.
    On a spot pool one extra attempt is reserved for the on-demand fallback; with
    no user retries that attempt is taken only after a preemption (pod error or
    SIGTERM exit), never after a failure of the user's code.
    """
    policy = task.retry
    retries = policy.num_retries
    spot = placement.spot_fallback is not None
    if retries <= 0 and not spot:
        return None
    if retries <= 0:
        limit, expression = 1, f'lastRetry.status == "Error" || lastRetry.exitCode == "{EXIT_PREEMPTED}"'
    else:
        limit, expression = retries + (1 if spot else 0), f'lastRetry.exitCode != "{EXIT_PERMANENT}"'
    backoff = None
    if retries > 0 and policy.backoff_duration_s > 0:
        backoff = m.Backoff(
            duration=duration(policy.backoff_duration_s),
            factor=m.IntOrString(str(max(1, math.ceil(policy.backoff_factor)))),
            cap=duration(policy.backoff_max_duration_s) if policy.backoff_max_duration_s else None,
        )
    return m.RetryStrategy(
        limit=m.IntOrString(str(limit)), retry_policy="Always", expression=expression, backoff=backoff
    )


def image_pull_secrets(spec: PipelineSpec) -> list[m.LocalObjectReference] | None:
    """Every task's ``set_image_pull_secrets``, on the Workflow: Argo takes pull secrets for all of a
    run's pods, not per template, and a pod holding a secret its image does not need is harmless."""
    names = sorted({name for task in spec.tasks.values() for name in task.kubernetes.image_pull_secrets})
    return [m.LocalObjectReference(name=name) for name in names] or None


def install_prelude(component: ComponentSpec, options: CompileOptions) -> str | None:
    """The shell run before the runtime, only under the explicit ``pinned_install`` opt-in: the
    runtime at its exact version and the component's packages, all from the one named index."""
    pinned = options.pinned_install
    if pinned is None:
        return None
    pip = f"python -m pip install --quiet --disable-pip-version-check --no-input --index-url {shlex.quote(pinned.index_url)}"
    packages = " ".join(shlex.quote(p) for p in (pinned.requirement, *component.packages_to_install))
    return "\n".join(["set -e", f"{pip} {packages}", f'exec python -m {RUNTIME_MODULE} "$@"'])


def container_template(
    ctx: PodContext,
    name: str,
    task: TaskSpec,
    component: ComponentSpec,
    inputs: Sequence[str],
    index_loops: Sequence[str],
    placement: Placement,
    final_status: bool,
    omittable: Sequence[str] = (),
) -> m.Template:
    """The Argo template running ``component`` with ``task``'s settings."""
    what = f"task {task.name!r}"
    image = component.base_image or ctx.image
    args = [
        "--spec", ctx.spec_ref,
        "--task", expr(f"inputs.parameters.{TASK_PARAM}"),
        "--run-id", ctx.run_id,
        "--outputs-dir", OUTPUTS_DIR,
    ]  # fmt: skip
    for name_ in inputs:
        args += ["--input", f"{name_}={{{{inputs.parameters.{param_name(name_)}}}}}"]
    for name_ in omittable:
        args += ["--omitted", f"{name_}={{{{inputs.parameters.{omitted_param(name_)}}}}}"]
    for loop in index_loops:
        args += ["--loop-index", f"{loop}={{{{inputs.parameters.{param_name(loop + '-index')}}}}}"]
    if not task.caching:
        args.append("--no-cache")
    if final_status:
        args += ["--workflow-failures", "{{workflow.failures}}"]
    if ctx.workspace:
        args += ["--workspace", workspace.MOUNT_PATH]
    prelude = install_prelude(component, ctx.options)
    if prelude:
        command, args = ["sh", "-c"], [prelude, "conveyor-pod", *args]
    else:
        command = ["python", "-m", RUNTIME_MODULE]

    kube = task.kubernetes
    extra = pod_volumes(kube)
    env = list(ctx.env) + [env_var(k, v, what) for k, v in sorted(task.env.items())] + extra.env
    mounts = list(extra.mounts)
    volumes = list(extra.volumes)
    if not any(mt.mount_path == TMP_PATH for mt in mounts):
        # Platforms run task containers with readOnlyRootFilesystem (the stack's mainContainer default,
        # which restricted namespaces expect): the outputs directory and Python's tempfile need /tmp.
        volumes.append(m.Volume(name=TMP_VOLUME, empty_dir=m.EmptyDirVolumeSource()))
        mounts.append(m.VolumeMount(name=TMP_VOLUME, mount_path=TMP_PATH))
    if ctx.workspace:  # the claim comes from the Workflow's volumeClaimTemplates, one per run
        mounts.append(m.VolumeMount(name=workspace.VOLUME, mount_path=workspace.MOUNT_PATH))
    if isinstance(component.implementation, ContainerImplementation):  # the pod is the image: run its command here
        env.append(m.EnvVar(name="CONVEYOR_CONTAINER_ENGINE", value="host"))
    if ctx.options.pip_cache_claim and prelude:
        env.append(m.EnvVar(name="PIP_CACHE_DIR", value=PIP_CACHE_PATH))
        mounts.append(m.VolumeMount(name=PIP_CACHE_VOLUME, mount_path=PIP_CACHE_PATH))
    check_mounts(mounts, volumes, what)

    params = [m.Parameter(name=TASK_PARAM)] + [m.Parameter(name=p) for p in extra.params]
    params += [m.Parameter(name=resource_param(f)) for f in sorted(task.resource_args)]
    params += [m.Parameter(name=param_name(i)) for i in inputs]
    params += [m.Parameter(name=omitted_param(i)) for i in omittable]
    params += [m.Parameter(name=param_name(loop + "-index")) for loop in index_loops]
    outputs = [
        m.Parameter(name=param_name(o.name), value_from=m.ValueFrom(path=f"{OUTPUTS_DIR}/{o.name}"))
        for o in component.outputs
    ]
    if task.timeout_s is not None and task.timeout_s <= 0:
        raise CompileError(f"{what}: timeout must be positive, got {task.timeout_s}")
    return m.Template(
        name=name,
        metadata=m.Metadata(
            labels={
                LABEL_KEY_TASK: expr(f"inputs.parameters.{TASK_PARAM}"),
                **kube.pod_labels,
                "conveyor.dev/component": label_value(component.name),
            },
            annotations=dict(kube.pod_annotations) or None,
        ),
        inputs=m.Inputs(parameters=params),
        outputs=m.Outputs(parameters=outputs) if outputs else None,
        container=m.Container(
            name="main",
            image=image,
            image_pull_policy=kube.image_pull_policy or ctx.options.image_pull_policy,
            command=command,
            args=args,
            env=env or None,
            env_from=list(ctx.env_from) or None,
            resources=resources(task, placement),
            volume_mounts=mounts or None,
            security_context=security_context(kube),
        ),
        volumes=volumes or None,
        retry_strategy=retry_strategy(task, placement),
        active_deadline_seconds=m.IntOrString(str(math.ceil(task.timeout_s))) if task.timeout_s else None,
        node_selector=dict(sorted(placement.node_selector.items())) or None,
        tolerations=[m.Toleration(**_toleration_kwargs(t)) for t in placement.tolerations] or None,
        affinity=node_affinity(kube.node_affinity),
        pod_spec_patch=runtime_resources_patch(task, placement, what),
    )


def _toleration_kwargs(tol: dict) -> dict:
    renamed = dict(tol)
    if "tolerationSeconds" in renamed:
        renamed["toleration_seconds"] = renamed.pop("tolerationSeconds")
    return renamed
