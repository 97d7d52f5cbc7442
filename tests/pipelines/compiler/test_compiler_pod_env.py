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


def test_literal_loop_items_with_floats_iterate_indices_not_with_items(profile, options):
    """Argo re-serialises withItems through Go's JSON (5.0 -> 5): floats must reach the pod from the spec,
    or the pod computes another cache key than a laptop run (seen with the training example's HPO grid)."""
    from conveyor import dsl
    from tests.pipelines.compiler.helpers import dag_tasks, templates

    @dsl.component
    def fit(params: dict) -> float:
        return float(params["C"])

    @dsl.pipeline(name="grid")
    def grid():
        with dsl.ParallelFor([{"C": 5.0, "w": None}, {"C": 0.5, "w": "balanced"}]) as p:
            fit(params=p)

    @dsl.pipeline(name="words")
    def words():
        with dsl.ParallelFor([{"C": 5, "w": "x"}, {"C": 6, "w": "y"}]) as p:
            fit(params=p)

    def iteration(manifest):
        wrapper = next(name for name in templates(manifest) if name.startswith("for-loop") and "body" not in name)
        return next(iter(dag_tasks(manifest, wrapper).values()))

    it = iteration(compile_workflow(grid.pipeline_spec, profile, options))
    assert "withItems" not in it and it["withSequence"] == {"count": "2", "start": "0"}
    it = iteration(compile_workflow(words.pipeline_spec, profile, options))
    assert it["withItems"] == [{"C": 5, "w": "x"}, {"C": 6, "w": "y"}]


def test_every_task_pod_has_a_writable_tmp_for_read_only_root_filesystems(profile, options, argo_schema):
    """The stack runs task containers with readOnlyRootFilesystem: outputs and tempfile need /tmp
    (seen on the real `local` stack: "No usable temporary directory found")."""
    manifest = compile_workflow(fp.exit_handler.pipeline_spec, profile, options)
    argo_schema.check(manifest)
    templates = container_templates(manifest)
    assert len(templates) >= 2
    for name, t in templates.items():
        assert {"name": "conveyor-tmp", "mountPath": "/tmp"} in t["container"]["volumeMounts"], name
        assert {"name": "conveyor-tmp", "emptyDir": {}} in t["volumes"], name


def test_the_profile_s_artifact_endpoint_reaches_every_pod(profile, options):
    """An S3-compatible store's endpoint is profile data (the stack exports it), not a secret."""
    with_endpoint = profile.model_copy(update={"artifact_endpoint": "http://10.0.0.5:9000",
                                               "artifact_root": "s3://bucket/artifacts"})
    manifest = compile_workflow(fp.exit_handler.pipeline_spec, with_endpoint, options)
    for t in container_templates(manifest).values():
        assert {"name": "AWS_ENDPOINT_URL_S3", "value": "http://10.0.0.5:9000"} in t["container"]["env"]
    assert "AWS_ENDPOINT_URL_S3" not in str(compile_workflow(fp.exit_handler.pipeline_spec, profile, options))


def test_the_profile_s_argo_instance_id_labels_the_workflow(profile, options):
    labelled = compile_workflow(fp.exit_handler.pipeline_spec, profile.model_copy(update={"argo_instance_id": "x1"}),
                                options)
    assert labelled["metadata"]["labels"]["workflows.argoproj.io/controller-instanceid"] == "x1"
    plain = compile_workflow(fp.exit_handler.pipeline_spec, profile, options)
    assert "workflows.argoproj.io/controller-instanceid" not in plain["metadata"]["labels"]


def test_a_bad_argo_instance_id_is_named():
    with pytest.raises(ProfileError, match="argo_instance_id 'not ok!'"):
        _validate({"artifact_root": "s3://b/a", "metadata_url": "sqlite:///x.db", "argo_instance_id": "not ok!"}, "p")
