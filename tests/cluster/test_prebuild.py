"""The background prebuild CI overlaps with ``make test``: order by first use, failures named."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cluster import argo_build, build, harness, images, platform, prebuild, pulumi_build


def _record(monkeypatch, order: list[str], fail: str | None = None) -> None:
    def step(name):
        def run(*_a, **_k):
            if name == fail:
                raise build.BuildError(f"{name}: go build", Path(f"/cache/{name}/build.log"), "exit status 1")
            order.append(name)
        return run

    monkeypatch.setattr(argo_build, "build", step("argo"))
    monkeypatch.setattr(harness, "build_all", step("kubernetes"))
    monkeypatch.setattr(images, "pause_archive", step("pause"))
    monkeypatch.setattr(images, "busybox_archive", step("busybox"))
    monkeypatch.setattr(pulumi_build, "engine", step("pulumi"))
    monkeypatch.setattr(platform, "task_image_ref", lambda: "conveyor.local/conveyor-task:x")
    monkeypatch.setattr(platform, "build_task_image", step("task image"))


def test_builds_run_in_order_of_first_use(monkeypatch, capsys):
    order: list[str] = []
    _record(monkeypatch, order)
    assert prebuild.main() == 0
    go = [s for s in order if s != "task image"]
    assert go == ["argo", "kubernetes", "pause", "busybox", "pulumi"]
    assert "task image" in order
    out = json.loads(capsys.readouterr().out)
    assert set(out["seconds"]) == {"argo", "cluster", "pulumi", "task_image"} and out["failed"] == []


def test_a_failed_build_names_its_step_and_log_and_stops_the_later_ones(monkeypatch, capsys):
    order: list[str] = []
    _record(monkeypatch, order, fail="kubernetes")
    assert prebuild.main() == 1
    assert "pulumi" not in order and "task image" in order
    err = capsys.readouterr().err
    assert "prebuild go builds: BuildError: cluster build step 'kubernetes: go build' failed" in err
    assert "/cache/kubernetes/build.log" in err
