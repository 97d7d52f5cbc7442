"""The build cache's pure parts: the wrapper module, version ldflags, failures that name the step."""

from __future__ import annotations

import os

import pytest

from tests.cluster import build, pins

UPSTREAM = """module k8s.io/kubernetes

go 1.24.0

require (
\tk8s.io/api v0.0.0
\tk8s.io/client-go v0.0.0
\tgithub.com/spf13/cobra v1.9.1
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/client-go => ./staging/src/k8s.io/client-go
\tk8s.io/cri-api => ./staging/src/k8s.io/cri-api
\tgithub.com/some/fork => github.com/other/fork v1.0.0
)
"""


def test_staging_replaces_come_from_upstream_gomod():
    got = build.staging_replaces(UPSTREAM, "v1.34.4")
    assert got == {"k8s.io/api": "v0.34.4", "k8s.io/client-go": "v0.34.4", "k8s.io/cri-api": "v0.34.4"}


def test_gomod_without_staging_lines_is_an_error():
    with pytest.raises(ValueError, match="staging"):
        build.staging_replaces("module k8s.io/kubernetes\n", "v1.34.4")


def test_wrapper_requires_the_pin_and_replaces_staging():
    text = build.wrapper_gomod(pins.KUBERNETES, {"k8s.io/api": "v0.34.4"})
    assert f"require k8s.io/kubernetes {pins.KUBERNETES.version}" in text
    assert "\tk8s.io/api => k8s.io/api v0.34.4" in text
    assert "replace" not in build.wrapper_gomod(pins.ETCD, {})


def test_version_ldflags_carry_the_pinned_version():
    flags = build.ldflags(pins.KUBERNETES)
    assert f"-X 'k8s.io/component-base/version.gitVersion={pins.KUBERNETES.version}'" in flags
    assert build.ldflags(pins.ETCD) == "-s -w"


def test_default_binary_names_follow_go_build():
    assert build.default_binary_name("go.etcd.io/etcd/server/v3") == "server"
    assert build.default_binary_name("k8s.io/kubernetes/cmd/kubelet") == "kubelet"


def test_cache_dir_is_keyed_by_version(tmp_path, monkeypatch):
    monkeypatch.setenv(build.CACHE_ENV, str(tmp_path))
    assert build.component_dir(pins.ETCD) == tmp_path / f"etcd-{pins.ETCD.version}"
    assert not build.built(pins.ETCD)


def test_failed_step_names_the_step_and_the_log(tmp_path):
    log = tmp_path / "build.log"
    with pytest.raises(build.BuildError) as err:
        build.run_step("etcd: go build", ["sh", "-c", "echo compile-exploded >&2; exit 3"], log, env=dict(os.environ))
    assert err.value.step == "etcd: go build" and err.value.log == log
    assert "'etcd: go build'" in str(err.value) and str(log) in str(err.value)
    assert "compile-exploded" in str(err.value)
    assert "rc=3" in log.read_text()


def test_missing_go_is_a_named_build_error(tmp_path, monkeypatch):
    monkeypatch.setenv(build.CACHE_ENV, str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(build.BuildError, match="find go"):
        build.ensure(pins.ETCD)
    assert not (tmp_path / pins.ETCD.key / build.STAMP).exists()
