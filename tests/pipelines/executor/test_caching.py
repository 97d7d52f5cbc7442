"""Caching: full hits, verification of artifacts, content-digest keys, TTLs, opt-outs, no duplicates."""

from __future__ import annotations

import multiprocessing
import time

from tests.pipelines.executor.conftest import by_name

PIPE = """
@dsl.component
def produce(n: int, data: Output[Dataset]):
    import os
    os.makedirs({marks!r}, exist_ok=True)
    open(os.path.join({marks!r}, f"produce-{{os.getpid()}}"), "w").write("x")
    open(data.path, "w").write("row\\n" * n)

@dsl.component
def consume(data: Input[Dataset]) -> int:
    import os
    open(os.path.join({marks!r}, f"consume-{{os.getpid()}}"), "w").write("x")
    return len(open(data.path).read().splitlines())

@dsl.pipeline(name="cachey")
def cachey(n: int = 3) -> int:
    p = produce(n=n)
    return consume(data=p.outputs["data"]).output
"""


def _pipe(write_pipeline, tmp_path, extra: str = "") -> tuple:
    marks = tmp_path / "marks"
    return write_pipeline(PIPE.format(marks=str(marks)) + extra), marks


def _count(marks, prefix: str) -> int:
    return len(list(marks.glob(f"{prefix}-*"))) if marks.exists() else 0


def test_second_run_is_fully_cached_and_fast(write_pipeline, run_file, tmp_path):
    path, marks = _pipe(write_pipeline, tmp_path)
    cold = run_file(path)
    warm = run_file(path)
    assert cold.status == warm.status == "succeeded"
    assert {t.status for t in warm.tasks} == {"cached"}
    assert warm.outputs == cold.outputs == {"Output": 3}
    assert _count(marks, "produce") == 1 and _count(marks, "consume") == 1
    assert all(t.saved_s is not None and t.saved_s > 0 for t in warm.tasks)


def test_changed_parameter_misses_only_what_it_reaches(write_pipeline, run_file, tmp_path):
    path, marks = _pipe(write_pipeline, tmp_path)
    run_file(path)
    second = run_file(path, {"n": 4})
    assert by_name(second)["produce"].status == "succeeded"
    assert second.outputs == {"Output": 4}


def test_same_content_from_another_producer_hits_by_digest(write_pipeline, run_file, runner, tmp_path):
    """The consumer's key uses the artifact's digest: recomputing identical bytes still hits."""
    path, marks = _pipe(write_pipeline, tmp_path)
    run_file(path)
    # Invalidate only the producer's entry: it recomputes identical bytes, and the consumer still
    # hits because its key holds the Dataset's digest, not the producer's run or the URI's name.
    first_key = next(e.key for e in runner.store.cache_list() if e.source_task_id == "produce")
    assert runner.store.cache_invalidate(first_key)
    again = by_name(run_file(path))
    assert again["produce"].status == "succeeded"
    assert again["consume"].status == "cached"
    assert _count(marks, "consume") == 1


def test_deleted_artifact_is_never_a_hit(write_pipeline, run_file, runner, tmp_path):
    path, marks = _pipe(write_pipeline, tmp_path)
    cold = run_file(path)
    from conveyor.stores.artifacts import open_artifact_store

    store = open_artifact_store(runner.profile.artifact_root)
    art = next(a for a in runner.store.find_artifacts(run_id=cold.run_id) if a.output_name == "data")
    assert store.delete(art.uri)
    warm = run_file(path)
    assert by_name(warm)["produce"].status == "succeeded"  # recomputed, not a stale hit
    assert warm.status == "succeeded" and _count(marks, "produce") == 2


def test_ttl_and_staleness_expire_entries(write_pipeline, run_file, tmp_path):
    path, marks = _pipe(write_pipeline, tmp_path)
    run_file(path)
    time.sleep(0.3)
    stale = run_file(path, max_cache_staleness_s=0.1)
    assert {t.status for t in stale.tasks} == {"succeeded"}
    fresh = run_file(path, max_cache_staleness_s=3600)
    assert {t.status for t in fresh.tasks} == {"cached"}


def test_component_ttl(write_pipeline, run_file, tmp_path):
    path = write_pipeline("""
    @dsl.component(cache_output_for_seconds=1.5)
    def short() -> int:
        return 1

    @dsl.pipeline(name="ttl")
    def ttl() -> int:
        return short().output
    """)
    assert run_file(path).tasks[0].status == "succeeded"
    assert run_file(path).tasks[0].status == "cached"
    time.sleep(1.6)
    assert run_file(path).tasks[0].status == "succeeded"


def test_caching_disabled_per_task_and_per_run(write_pipeline, run_file, tmp_path):
    path = write_pipeline("""
    @dsl.component
    def one() -> int:
        return 1

    @dsl.pipeline(name="optout")
    def optout():
        one().set_caching_options(False)
        one()
    """)
    run_file(path)
    second = by_name(run_file(path))
    assert second["one"].status == "succeeded" and second["one-2"].status == "cached"
    third = run_file(path, use_cache=False)
    assert {t.status for t in third.tasks} == {"succeeded"}


def _concurrent_run(home: str, cwd: str, path: str, out) -> None:
    import os

    os.environ["CONVEYOR_HOME"] = home
    os.chdir(cwd)
    from conveyor.executor.run import LocalRunner
    from conveyor.runtime.loader import find_pipeline

    runner = LocalRunner()
    result = runner.run(find_pipeline(path).pipeline_spec, {}, preload=[path])
    out.put({t.name: t.status for t in result.tasks})
    runner.close()


def test_two_concurrent_runs_compute_a_shared_key_once(write_pipeline, home, tmp_path):
    marks = tmp_path / "marks"
    path = write_pipeline(f"""
    @dsl.component
    def slow() -> int:
        import os, time
        os.makedirs({str(marks)!r}, exist_ok=True)
        open(os.path.join({str(marks)!r}, f"slow-{{os.getpid()}}"), "w").write("x")
        time.sleep(1.0)
        return 7

    @dsl.pipeline(name="shared")
    def shared() -> int:
        return slow().output
    """)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_concurrent_run, args=(str(home), str(tmp_path), str(path), out)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert sorted(r["slow"] for r in results) == ["cached", "succeeded"]
    assert len(list(marks.glob("slow-*"))) == 1
