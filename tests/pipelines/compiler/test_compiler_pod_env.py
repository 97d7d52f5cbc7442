"""The profile's ``pod_env_secret``: every task pod (exit handler included) gets the Secret's keys as
environment (``envFrom``), the manifest names only the Secret, and a bad name fails at load time."""

from __future__ import annotations

import pytest

from conveyor.compiler.argo import compile_workflow
from conveyor.profile import ProfileError, _validate
from tests.pipelines.compiler import feature_pipelines as fp
from tests.pipelines.compiler.helpers import container_templates


def test_every_pod_gets_the_pod_env_secret_as_env_from(profile, options, argo_schema):
    with_secret = profile.model_copy(update={"pod_env_secret": "conveyor-pod-env"})
    manifest = compile_workflow(fp.exit_handler.pipeline_spec, with_secret, options)
    argo_schema.check(manifest)
    containers = [t["container"] for t in container_templates(manifest).values()]
    assert len(containers) >= 2  # the body and the exit task
    assert all(c["envFrom"] == [{"secretRef": {"name": "conveyor-pod-env"}}] for c in containers)
    assert "AWS_" not in str(manifest)  # only the Secret's name is in the manifest


def test_without_pod_env_secret_no_env_from(profile, options):
    manifest = compile_workflow(fp.exit_handler.pipeline_spec, profile, options)
    assert all("envFrom" not in t["container"] for t in container_templates(manifest).values())


def test_a_bad_pod_env_secret_name_is_a_profile_error_naming_the_key():
    base = {"artifact_root": "s3://b/p", "metadata_url": "postgresql://u:p@h/db"}
    with pytest.raises(ProfileError, match="pod_env_secret 'Bad_Name' is not a Kubernetes Secret name"):
        _validate({**base, "pod_env_secret": "Bad_Name"}, "profile")
    assert _validate({**base, "pod_env_secret": "conveyor-pod-env"}, "profile").pod_env_secret == "conveyor-pod-env"
