"""Delivery: textfile merging across processes, exposition that promtool accepts, and a push
that cannot reach its gateway warning instead of raising (the real-gateway path is in
tests/monitoring/test_monitoring_e2e.py)."""

from __future__ import annotations

import logging
import subprocess
import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from conveyor.metrics import RunMetrics
from tests.services.common import find_binary, free_port, unavailable


def samples(path: Path) -> dict[tuple[str, tuple], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(path.read_text())
        for s in fam.samples
    }


def one_run(path: Path, pipeline: str = "p", *, task_s: float = 3.0) -> RunMetrics:
    m = RunMetrics(pipeline, instance="test")
    m.run_started()
    m.task_finished("t", "succeeded", task_s)
    m.run_finished("succeeded", duration_s=task_s)
    assert m.write_textfile(path) is True
    return m


def test_textfile_counters_and_histograms_accumulate_across_processes(tmp_path):
    path = tmp_path / "conveyor.prom"
    one_run(path, task_s=3.0)
    one_run(path, task_s=20.0)
    got = samples(path)
    assert got[("conveyor_runs_started_total", (("pipeline", "p"),))] == 2
    key = (("pipeline", "p"), ("status", "succeeded"), ("task", "t"))
    assert got[("conveyor_task_duration_seconds_count", key)] == 2
    assert got[("conveyor_task_duration_seconds_sum", key)] == 23.0
    assert got[("conveyor_task_duration_seconds_bucket", (("le", "5.0"), *key))] == 1
    assert got[("conveyor_task_duration_seconds_bucket", (("le", "30.0"), *key))] == 2


def test_writing_twice_from_one_process_does_not_double_count(tmp_path):
    path = tmp_path / "conveyor.prom"
    m = one_run(path)
    assert m.write_textfile(path)
    assert samples(path)[("conveyor_runs_started_total", (("pipeline", "p"),))] == 1


def test_other_pipelines_series_in_the_file_are_kept(tmp_path):
    path = tmp_path / "conveyor.prom"
    one_run(path, "a")
    one_run(path, "b")
    got = samples(path)
    assert got[("conveyor_runs_started_total", (("pipeline", "a"),))] == 1
    assert got[("conveyor_runs_started_total", (("pipeline", "b"),))] == 1


def test_no_created_samples_are_written(tmp_path):
    """`_created` gauges would be summed by the merge into nonsense; they are dropped."""
    path = tmp_path / "conveyor.prom"
    one_run(path)
    assert "_created" not in path.read_text()


def test_the_exposition_passes_promtool_check_metrics(tmp_path):
    promtool = find_binary("promtool", "prometheus")
    if promtool is None:
        unavailable("promtool is not on PATH (Debian package `prometheus`)")
    path = tmp_path / "conveyor.prom"
    one_run(path)
    result = subprocess.run(
        [promtool, "check", "metrics"], input=path.read_text(), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_unwritable_textfile_returns_false_and_counts_the_failure(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")
    m = RunMetrics("p", instance="test")
    with caplog.at_level(logging.WARNING, logger="conveyor.metrics"):
        assert m.write_textfile(blocker / "sub" / "x.prom") is False
    assert "delivery to textfile" in caplog.text
    assert m.registry.get_sample_value("conveyor_metrics_push_failures_total", {"pipeline": "p"}) == 1


def test_push_to_a_closed_port_fails_fast_without_raising(caplog):
    m = RunMetrics("p", instance="test")
    start = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="conveyor.metrics"):
        assert m.push(f"http://127.0.0.1:{free_port()}", timeout=1.0) is False
    assert time.monotonic() - start < 3
    assert "delivery to Pushgateway" in caplog.text
    assert m.registry.get_sample_value("conveyor_metrics_push_failures_total", {"pipeline": "p"}) == 1


def test_push_to_a_garbage_url_does_not_raise():
    assert RunMetrics("p", instance="test").push("not a url at all::", timeout=0.5) is False


def test_the_fast_exposition_parser_agrees_with_prometheus_clients_parser():
    """delivery._parse replaces the slow reference parser; both must read the same samples."""
    from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    from conveyor.metrics.delivery import _key, _parse

    reg = CollectorRegistry()
    c = Counter("odd", "Odd label values.", ("pipeline", "task"), registry=reg)
    h = Histogram("lat", "Latency.", ("pipeline",), registry=reg, buckets=(0.5, 1e9))
    for weird in ['a "quoted" name', "back\\slash", "new\nline", "brace}{,=", "ünïcode"]:
        c.labels(weird, "t").inc(3)
        h.labels(weird).observe(0.1)
    text = generate_latest(reg).decode()
    reference = {
        _key(s.name, s.labels): s.value for fam in text_string_to_metric_families(text) for s in fam.samples
    }
    assert _parse(text, {}, ()) == reference
    only = _parse(text, {"pipeline": 'a "quoted" name'}, ("pipeline",))
    assert only[("odd_total", (("task", "t"),))] == 3
    assert all(dict(k[1]).get("pipeline") is None for k in only)
