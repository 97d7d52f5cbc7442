"""RunMetrics records what the executor tells it, on its own registry, with bounded labels."""

from __future__ import annotations

import subprocess
import sys

import pytest
from prometheus_client import REGISTRY, CollectorRegistry

from conveyor.metrics import RunMetrics, metric_names


def value(m: RunMetrics, name: str, **labels: str) -> float | None:
    return m.registry.get_sample_value(name, {"pipeline": m.pipeline, **labels})


def test_a_run_with_an_executed_a_cached_and_a_retried_task():
    m = RunMetrics("train", instance="test")
    m.run_started()
    m.task_finished("prep", cached=True, saved_s=120.0, saved_usd=0.05)
    m.task_finished(
        "fit", "succeeded", 42.0, peak_rss_mb=512, queue_wait_s=1.5, pool="gpu", capacity="spot", cost_usd=0.2
    )
    m.retry("fit", "preempted", pool="gpu")
    m.run_finished("succeeded", duration_s=50.0)

    assert value(m, "conveyor_runs_started_total") == 1
    assert value(m, "conveyor_runs_finished_total", status="succeeded") == 1
    assert value(m, "conveyor_runs_finished_total", status="failed") == 0  # pre-created for ratios
    assert value(m, "conveyor_cache_hits_total", task="prep") == 1
    assert value(m, "conveyor_cache_misses_total", task="fit") == 1
    assert value(m, "conveyor_cache_misses_total", task="prep") == 0
    assert value(m, "conveyor_cache_saved_seconds_total") == 120.0
    assert value(m, "conveyor_cache_saved_dollars_total") == 0.05
    assert value(m, "conveyor_task_duration_seconds_count", task="fit", status="succeeded") == 1
    assert value(m, "conveyor_task_duration_seconds_sum", task="fit", status="succeeded") == 42.0
    # The cached task's lookup is not a task duration.
    assert value(m, "conveyor_task_duration_seconds_count", task="prep", status="succeeded") is None
    assert value(m, "conveyor_task_peak_memory_bytes_sum", task="fit") == 512 * 2**20
    assert value(m, "conveyor_task_queue_wait_seconds_sum") == 1.5
    assert value(m, "conveyor_task_cost_dollars_total", pool="gpu", capacity="spot") == 0.2
    assert value(m, "conveyor_task_retries_total", task="fit", reason="preempted", pool="gpu") == 1
    assert value(m, "conveyor_run_duration_seconds_sum", status="succeeded") == 50.0


def test_run_duration_defaults_to_the_time_since_run_started():
    m = RunMetrics("p", instance="test")
    m.run_started()
    m.run_finished("failed")
    assert 0 <= value(m, "conveyor_run_duration_seconds_sum", status="failed") < 5


def test_tasks_with_caching_disabled_count_neither_hit_nor_miss():
    m = RunMetrics("p", instance="test")
    m.task_finished("export", "succeeded", 1.0, cacheable=False)
    assert value(m, "conveyor_cache_misses_total", task="export") == 0
    assert value(m, "conveyor_task_duration_seconds_count", task="export", status="succeeded") == 1


def test_unknown_retry_reasons_are_bucketed_as_other_to_bound_cardinality():
    m = RunMetrics("p", instance="test")
    m.retry("t", "OOMKilled: container 7f3a… exceeded 4Gi")
    assert value(m, "conveyor_task_retries_total", task="t", reason="other", pool="local") == 1


@pytest.mark.parametrize(
    "call", [lambda m: m.run_finished("exploded"), lambda m: m.task_finished("t", "weird")]
)
def test_unknown_statuses_are_rejected_naming_the_allowed_ones(call):
    with pytest.raises(ValueError, match="status: 'weird'|status: 'exploded'") as err:
        call(RunMetrics("p", instance="test"))
    assert "succeeded" in str(err.value)


def test_no_label_can_hold_a_run_id():
    m = RunMetrics("p", instance="test")
    for family in m.registry.collect():
        for sample in family.samples:
            assert not {"run", "run_id", "uid", "id"} & set(sample.labels), sample


def test_each_run_metrics_uses_its_own_registry_never_the_global_one():
    before = set(REGISTRY._names_to_collectors)  # noqa: SLF001 - the global registry's contents
    a, b = RunMetrics("a", instance="t"), RunMetrics("b", instance="t")
    a.run_started()
    assert set(REGISTRY._names_to_collectors) == before  # noqa: SLF001
    assert a.registry is not b.registry and isinstance(a.registry, CollectorRegistry)
    assert b.registry.get_sample_value("conveyor_runs_started_total", {"pipeline": "b"}) == 0


def test_metric_names_lists_every_exposed_series_name():
    names = metric_names()
    assert {"conveyor_runs_started_total", "conveyor_task_duration_seconds_bucket"} <= names
    assert all(n.startswith("conveyor_") for n in names)


def test_the_package_imports_nothing_from_higher_layers():
    code = (
        "import sys, conveyor.metrics, conveyor.metrics.cost;"
        "bad = [m for m in sys.modules if m.split('.')[:2] in (['conveyor','executor'],['conveyor','runtime'],"
        "['conveyor','cli'],['conveyor','dsl'],['conveyor','launcher'],['conveyor','compiler'])];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
