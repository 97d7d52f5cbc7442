"""`conveyor compile | submit | schedule` through the typer app; `runs`/`show` read cluster runs."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from conveyor.cli.app import app
from tests.pipelines.runtime import pod_pipelines as pp

PIPELINES = Path(pp.__file__)
EXAMPLE_PROFILE = Path("/work/shared/profile.example.json")
for parent in Path(__file__).resolve().parents:
    if (parent / "shared" / "profile.example.json").exists():
        EXAMPLE_PROFILE = parent / "shared" / "profile.example.json"
        break


def _profile_file(tmp_path: Path, cluster) -> Path:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps({"profile": {"cloud": "aws", "environment": "dev", "namespace": "ml",
                                            "artifact_root": cluster.artifact_root,
                                            "metadata_url": cluster.metadata_url,
                                            "image_registry": "registry.test/conveyor"}}))
    return path


def test_compile_writes_a_workflow_for_the_profile(tmp_path):
    out = tmp_path / "wf.yaml"
    result = CliRunner().invoke(app, ["compile", f"{PIPELINES}:train_pipeline", "--profile", str(EXAMPLE_PROFILE),
                                      "-p", "lr=0.5", "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    manifest = yaml.safe_load(out.read_text())
    assert manifest["kind"] == "Workflow" and manifest["metadata"]["namespace"] == "ml-team-a"
    params = {p["name"]: p.get("value") for p in manifest["spec"]["arguments"]["parameters"]}
    assert params["lr"] == "0.5"
    assert "secret@metadata.internal" not in out.read_text()  # the metadata URL stays in a Secret
    assert json.loads(result.stdout)["tasks"] == 3


def test_bad_profile_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "p.json"
    bad.write_text(json.dumps({"artifact_root": "ftp://x", "metadata_url": "postgresql://u:pw@h/db"}))
    for args in (["--profile", str(bad)], [], ["--profile", str(bad), "--stack", "dev"]):
        result = CliRunner().invoke(app, ["submit", f"{PIPELINES}:train_pipeline", *args])
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output and "pw@" not in result.output
    result = CliRunner().invoke(app, ["submit", f"{PIPELINES}:train_pipeline", "--profile", str(bad)])
    assert "artifact_root" in result.output


def test_fully_cached_submit_and_runs_show_read_it(local_cluster, tmp_path, monkeypatch):
    """The cluster run lands in the profile's store with local-run fields, so `runs`/`show` list it."""
    home = tmp_path / "home"
    monkeypatch.setenv("CONVEYOR_HOME", str(home))
    local_cluster.metadata_url = f"sqlite:///{home / 'metadata.db'}"
    local_cluster.run(pp.train_pipeline.pipeline_spec)
    profile = _profile_file(tmp_path, local_cluster)
    result = CliRunner().invoke(app, ["submit", f"{PIPELINES}:train_pipeline", "--profile", str(profile), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "succeeded" and data["workflow"] is None
    assert {t["status"] for t in data["tasks"]} == {"cached"}

    runs = json.loads(CliRunner().invoke(app, ["runs", "--json"]).stdout)
    assert data["run_id"] in [r["run_id"] for r in runs]
    shown = json.loads(CliRunner().invoke(app, ["show", data["run_id"], "--json"]).stdout)
    assert shown["status"] == "succeeded" and {t["status"] for t in shown["tasks"]} == {"cached"}

    human = CliRunner().invoke(app, ["submit", f"{PIPELINES}:train_pipeline", "--profile", str(profile)])
    assert human.exit_code == 0 and "no Workflow was created" in human.output


def test_schedule_without_a_reachable_cluster_fails_in_one_line(local_cluster, tmp_path):
    profile = _profile_file(tmp_path, local_cluster)
    data = json.loads(profile.read_text())
    data["profile"]["kubeconfig"] = "clusters: [oops"
    profile.write_text(json.dumps(data))
    result = CliRunner().invoke(app, ["schedule", f"{PIPELINES}:train_pipeline", "--cron", "0 3 * * *",
                                      "--profile", str(profile)])
    assert result.exit_code == 2 and "kubeconfig" in result.output and "oops" not in result.output
