"""Which image each pod runs: the built task image, a component's own base_image, or the pinned opt-in.

No pod installs anything at start unless ``pinned_install`` names an index and an exact version;
a pipeline with no image to run gets a CompileError naming it, not a pod that fails later.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from conveyor.compiler.argo import CompileError, compile_workflow
from conveyor.compiler.argo.images import image_tag, pipeline_packages, task_image
from conveyor.compiler.argo.options import PinnedInstall
from tests.pipelines.compiler.feature_pipelines import FEATURES
from tests.pipelines.compiler.helpers import container_templates, templates

RUNTIME = ["python", "-m", "conveyor.runtime.pod"]


def test_pods_run_the_image_named_from_the_profile_registry(profile, options):
    spec = FEATURES["basic_dag"].pipeline_spec
    wf = compile_workflow(spec, profile, options)
    expected = f"{profile.image_registry}/conveyor-task:{image_tag(pipeline_packages(spec))}"
    assert expected == task_image(spec, profile.image_registry)
    for name, tpl in container_templates(wf).items():
        assert tpl["container"]["image"] == expected, name
        assert tpl["container"]["command"] == RUNTIME, name  # nothing installed at pod start
    assert "pip install" not in str(wf)


def test_packages_change_the_tag_and_order_does_not():
    assert image_tag(("a==1", "b>=2")) == image_tag(tuple(sorted(("b>=2", "a==1"))))
    assert image_tag(("a==1",)) != image_tag(("a==2",))
    assert image_tag((), "0.1.0") != image_tag((), "0.2.0")


def test_explicit_image_wins(profile, options):
    wf = compile_workflow(FEATURES["basic_dag"].pipeline_spec, profile, replace(options, image="reg.local/t:1"))
    assert {t["container"]["image"] for t in container_templates(wf).values()} == {"reg.local/t:1"}


def test_component_base_image_runs_as_is(profile, options):
    fit = templates(compile_workflow(FEATURES["packages"].pipeline_spec, profile, options))["fit-sklearn"]
    assert fit["container"]["image"] == "python:3.12-slim"
    assert fit["container"]["command"] == RUNTIME


def test_no_registry_and_no_image_is_a_compile_error(profile, options):
    bare = profile.model_copy(update={"image_registry": None})
    with pytest.raises(CompileError, match=r"pipeline 'basic-dag': no task image: the profile has no image_registry"):
        compile_workflow(FEATURES["basic_dag"].pipeline_spec, bare, options)
    with pytest.raises(CompileError, match="no image_registry"):
        compile_workflow(FEATURES["basic_dag"].pipeline_spec, None, options)
    # a pipeline whose components all bring their own image needs none
    compile_workflow(FEATURES["packages"].pipeline_spec, bare, options)


def test_bad_registry_is_a_compile_error(profile, options):
    bad = profile.model_copy(update={"image_registry": "https://reg.example.com/x"})
    with pytest.raises(CompileError, match=r"image_registry 'https://reg.example.com/x' must be a registry path"):
        compile_workflow(FEATURES["basic_dag"].pipeline_spec, bad, options)


def test_pinned_install_opt_in_names_index_and_exact_version(profile, options):
    pinned = PinnedInstall(index_url="https://pypi.internal/simple", version="0.1.0")
    opts = replace(options, image="python:3.11-slim", pinned_install=pinned, pip_cache_claim="pip-cache")
    wf = compile_workflow(FEATURES["basic_dag"].pipeline_spec, profile, opts)
    train = templates(wf)["train"]["container"]
    assert train["image"] == "python:3.11-slim" and train["command"] == ["sh", "-c"]
    script = train["args"][0]
    assert "--index-url https://pypi.internal/simple 'conveyor-ml[pod]==0.1.0'" in script
    assert 'exec python -m conveyor.runtime.pod "$@"' in script and train["args"][1] == "conveyor-pod"
    assert {"name": "conveyor-pip-cache", "mountPath": "/conveyor/pip-cache"} in train["volumeMounts"]
    fit = templates(compile_workflow(FEATURES["packages"].pipeline_spec, profile, opts))["fit-sklearn"]
    assert "'conveyor-ml[pod]==0.1.0' scikit-learn==1.5.0 'pandas>=2'" in fit["container"]["args"][0]


@pytest.mark.parametrize("index,version,match", [
    ("pypi.org/simple", "0.1.0", "index_url 'pypi.org/simple' must be an http"),
    ("https://pypi.internal/simple", ">=0.1", "version '>=0.1' is not an exact version"),
    ("https://pypi.internal/simple", "", "version '' is not an exact version"),
])
def test_pinned_install_rejects_unpinned(index, version, match):
    with pytest.raises(CompileError, match=match):
        PinnedInstall(index_url=index, version=version)


def test_pinned_install_without_image_is_a_compile_error(profile, options):
    opts = replace(options, pinned_install=PinnedInstall("https://pypi.internal/simple", "0.1.0"))
    with pytest.raises(CompileError, match="pinned_install needs an explicit image"):
        compile_workflow(FEATURES["basic_dag"].pipeline_spec, profile, opts)
