"""What every pod of one workflow shares: the task image, the common environment, the spec reference.

Kept apart from the driver (workflow.py): these depend only on the spec, the profile and the options,
never on the DAG being built.
"""

from __future__ import annotations

import hera.workflows.models as m

from conveyor.compiler.argo.images import ImageConfigError, needs_task_image, task_image
from conveyor.compiler.argo.naming import expr
from conveyor.compiler.argo.options import SPEC_ENV, CompileError, CompileOptions, SecretKeyRef
from conveyor.compiler.argo.pods import PodContext
from conveyor.ir import PipelineSpec
from conveyor.profile import Profile

SPEC_PARAM = "conveyor-spec"


def pod_context(spec: PipelineSpec, profile: Profile | None, options: CompileOptions, run_id: str) -> PodContext:
    """Built once per compile; every container template reads it."""
    return PodContext(options, options.spec_uri or f"env:{SPEC_ENV}", run_id,
                      tuple(_common_env(spec, profile, options, run_id)), _env_from(profile),
                      _image(spec, profile, options), workspace=spec.workspace is not None)


def _image(spec: PipelineSpec, profile: Profile | None, options: CompileOptions) -> str | None:
    """The task image of components without a ``base_image``: explicit, or the one ``conveyor image
    build`` names for this pipeline under the profile's ``image_registry``. None only if unused."""
    if options.image:
        return options.image
    if not needs_task_image(spec):
        return None
    if options.pinned_install is not None:
        raise CompileError(f"pipeline {spec.name!r}: pinned_install needs an explicit image "
                           "(e.g. a Python image with pip) to install into")
    try:
        return task_image(spec, getattr(profile, "image_registry", None))
    except ImageConfigError as exc:
        raise CompileError(str(exc)) from None


def _env_from(profile: Profile | None) -> tuple[m.EnvFromSource, ...]:
    secret = getattr(profile, "pod_env_secret", None)
    return (m.EnvFromSource(secret_ref=m.SecretEnvSource(name=secret)),) if secret else ()


def _common_env(spec: PipelineSpec, profile: Profile | None, options: CompileOptions, run_id: str) -> list[m.EnvVar]:
    env = [
        m.EnvVar(name="CONVEYOR_RUN_ID", value=run_id),
        m.EnvVar(name="CONVEYOR_PIPELINE", value=spec.name),
    ]
    if profile is not None:
        env.append(m.EnvVar(name="CONVEYOR_ARTIFACT_ROOT", value=profile.artifact_root))
        if profile.artifact_store_options():  # boto3 in the pod reads the endpoint from here
            env.append(m.EnvVar(name="AWS_ENDPOINT_URL_S3", value=profile.artifact_endpoint))
        if profile.pushgateway_url:
            env.append(m.EnvVar(name="CONVEYOR_PUSHGATEWAY_URL", value=profile.pushgateway_url))
    secrets = {"CONVEYOR_METADATA_URL": options.metadata_secret, **dict(options.secret_env)}
    for name, ref_text in sorted(secrets.items()):
        ref = SecretKeyRef.parse(ref_text, f"secret env {name}")
        source = m.EnvVarSource(secret_key_ref=m.SecretKeySelector(name=ref.name, key=ref.key))
        env.append(m.EnvVar(name=name, value_from=source))
    if not options.spec_uri:
        env.append(m.EnvVar(name=SPEC_ENV, value=expr(f"workflow.parameters.{SPEC_PARAM}")))
    return env
