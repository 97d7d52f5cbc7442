"""Harness failure paths that need no cluster: a component that dies names itself and its log."""

from __future__ import annotations

import os

import pytest

from tests.cluster import harness
from tests.cluster.configs import Layout
from tests.cluster.node import Component


def test_a_component_that_exits_names_the_step_and_its_log(tmp_path):
    layout = Layout(tmp_path)
    comp = Component("kube-apiserver", ["sh", "-c", "echo 'etcd unreachable' >&2; exit 3"], lambda: False,
                     timeout=5)
    with pytest.raises(harness.StartError) as err:
        harness.start_component(comp, layout, dict(os.environ))
    assert err.value.step == "start kube-apiserver"
    assert err.value.log == layout.logs / "kube-apiserver.log"
    assert "exited with code 3" in str(err.value) and "etcd unreachable" in str(err.value)


def test_a_component_that_never_gets_ready_is_stopped_and_named(tmp_path):
    layout = Layout(tmp_path)
    comp = Component("kubelet", ["sleep", "30"], lambda: False, timeout=1)
    with pytest.raises(harness.StartError, match=r"(?s)'start kubelet'.*did not become ready"):
        harness.start_component(comp, layout, dict(os.environ))


def test_down_without_a_cluster_does_nothing(tmp_path):
    assert harness.down(tmp_path) == {}
    assert harness.running(tmp_path) is None
