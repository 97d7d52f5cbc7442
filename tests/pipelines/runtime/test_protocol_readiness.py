"""Readiness parity: the local scheduler and submit-time resolution decide tasks by one set of rules
(``conveyor.runtime.protocol.readiness``), so what a local run skipped, and why, is what submit
resolves as skipped before anything reaches the cluster."""

from __future__ import annotations

from tests.pipelines.executor.conftest import by_name

GATES = """
@dsl.component
def flag() -> bool:
    return False

@dsl.component
def work(x: int) -> int:
    return x

@dsl.pipeline(name="gates")
def gates():
    f = flag()
    with dsl.If(f.output == True):  # noqa: E712
        a = work(x=1)
    work(x=2).after(a)
    work(x=3).after(f)
"""


def test_local_run_and_submit_resolution_skip_the_same_tasks_for_the_same_reasons(write_pipeline, run_file, home):
    from conveyor.launcher.resolve import resolve_cached
    from conveyor.runtime.loader import find_pipeline
    from conveyor.stores.artifacts import open_artifact_store
    from conveyor.stores.metadata import open_metadata_store

    path = write_pipeline(GATES)
    spec = find_pipeline(path, None).pipeline_spec
    local = run_file(path)
    assert local.succeeded, local.error
    tasks = by_name(local)
    skipped_locally = {name: t.error for name, t in tasks.items() if t.status == "skipped"}
    assert skipped_locally == {"work": "condition condition-1 is false", "work-2": "upstream work skipped"}
    with open_metadata_store(f"sqlite:///{home / 'metadata.db'}") as store:
        resolution = resolve_cached(spec, {}, store, open_artifact_store((home / "artifacts").as_uri()), run_id="r")
    assert resolution.skipped == skipped_locally
    assert set(resolution.cached) == {"flag", "work-3"}
