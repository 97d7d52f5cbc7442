"""The cluster's kfp branch scenarios (tests/cluster/test_e2e_kfp_branches.py) under the local executor:
the values asserted here are the ones the cluster test asserts, so a laptop run and an Argo run of
the same pipeline agree. Both read ``EXPECTED`` from the pipelines' module: one fact, one place."""

from __future__ import annotations

import pytest

from tests.cluster import e2e_branch_pipelines
from tests.cluster.e2e_branch_pipelines import EXPECTED


@pytest.fixture
def run_pipeline(runner):
    """Runs a pipeline of the module by name, imported as a package module: loading it by file path
    (``run_file``) puts tests/cluster on the task processes' path, where its ``platform.py`` shadows the
    standard library's."""
    from conveyor.executor.run import RunOptions
    def run(name: str, arguments: dict):
        return runner.run(getattr(e2e_branch_pipelines, name).pipeline_spec, arguments, options=RunOptions())

    return run


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_local_run_gives_the_values_the_cluster_test_expects(name, run_pipeline):
    arguments, status, outputs, tasks = EXPECTED[name]
    result = run_pipeline(name, arguments)
    assert result.succeeded == (status == "succeeded"), result.error
    assert result.outputs == outputs
    assert {t.task: t.status for t in result.tasks} == tasks
