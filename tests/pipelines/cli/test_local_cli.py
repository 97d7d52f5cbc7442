"""The local CLI end to end: exit codes, --json shapes, one-line errors, notifications, Postgres."""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit, urlunsplit

import pytest

PIPE = """
@dsl.component
def add(a: int, b: int) -> int:
    return a + b

@dsl.component
def fail_if(value: int, limit: int) -> int:
    if value > limit:
        raise dsl.PermanentError(f"value {value} is over the limit {limit}")
    return value

@dsl.component
def score(m: Output[Metrics]):
    m.log_metric("accuracy", 0.93)

@dsl.pipeline(name="cli-demo")
def cli_demo(a: int = 1, b: int = 2, limit: int = 100) -> int:
    score()
    s = add(a=a, b=b)
    return fail_if(value=s.output, limit=limit).output
"""


@pytest.fixture
def pipe(write_pipeline):
    return write_pipeline(PIPE, name="clidemo")


def test_run_json_then_cached(cli, pipe):
    first = cli("run", str(pipe), "-p", "a=5", "--json")
    assert first.code == 0, first.err
    data = first.json
    assert data["status"] == "succeeded" and data["outputs"] == {"Output": 7}
    assert {t["name"]: t["status"] for t in data["tasks"]} == {"score": "succeeded", "add": "succeeded",
                                                               "fail-if": "succeeded"}
    second = cli("run", str(pipe), "-p", "a=5", "--json").json
    assert {t["status"] for t in second["tasks"]} == {"cached"}
    table = cli("run", str(pipe), "-p", "a=5")
    assert table.code == 0 and "every task was served from the cache" in table.out


def test_failed_run_exits_1_and_names_the_task(cli, pipe):
    result = cli("run", str(pipe), "-p", "limit=1")
    assert result.code == 1
    assert "fail-if" in result.out and "value 3 is over the limit 1" in result.out
    assert "permanent" in result.out and "Traceback" not in result.out + result.err


@pytest.mark.parametrize(("args", "fragment"), [
    (["-p", "a=five"], "argument 'a': expected an int, got 'five'"),
    (["-p", "a"], "expected NAME=VALUE"),
    (["-p", "zzz=1"], "unknown argument(s) zzz"),
    (["--parallelism", "0"], "--parallelism must be >= 1"),
    (["--notify", "ftp://example.invalid/hook"], "http"),
    (["--notify", "env:CONVEYOR_TEST_UNSET_HOOK"], "CONVEYOR_TEST_UNSET_HOOK"),
])
def test_bad_input_is_one_line_and_exit_2(cli, pipe, args, fragment):
    result = cli("run", str(pipe), *args)
    assert result.code == 2, (result.out, result.err)
    assert fragment in result.err
    assert "Traceback" not in result.err


def test_debug_shows_the_traceback(cli, pipe):
    result = cli("--debug", "run", str(pipe), "-p", "a=five")
    assert result.code != 0 and "Traceback" in result.err


def test_runs_show_rightsize_cache(cli, pipe):
    run_id = cli("run", str(pipe), "--json").json["run_id"]
    runs = cli("runs", "--json").json
    assert runs[0]["run_id"] == run_id and runs[0]["status"] == "succeeded"
    shown = cli("show", run_id, "--json").json
    assert shown["outputs"] == {"Output": 3}
    assert {"task": "score", "name": "accuracy", "value": 0.93} in shown["metrics"]
    sizes = {s["task"]: s for s in cli("rightsize", run_id, "--json").json}
    assert sizes["add"]["memory_request"].endswith("Mi") and sizes["add"]["peak_rss_mb"] > 0
    assert len(cli("cache", "ls", "--json").json) == 3
    assert cli("cache", "prune", "--all", "--json").json == {"removed": 3}
    missing = cli("show", "no-such-run")
    assert missing.code == 2 and "no-such-run" in missing.err


def test_notify_posts_the_report(cli, pipe, webhook_receiver):
    url = webhook_receiver.url("/hooks/run")
    result = cli("run", str(pipe), "--json", "--notify", "HOOK_URL", env={"HOOK_URL": url})
    assert result.code == 0, result.err
    body = webhook_receiver.wait_for(1)[0].json
    assert body["status"] == "succeeded" and body["pipeline"] == "cli-demo"
    assert body["metrics"] == {"accuracy": 0.93} and body["total_count"] == 3
    assert url not in result.out + result.err


def test_notify_endpoint_down_keeps_result_and_is_bounded(cli, pipe, webhook_receiver):
    start = time.monotonic()
    result = cli("run", str(pipe), "--json", "--notify", "HOOK_URL", env={"HOOK_URL": webhook_receiver.closed_url()})
    assert result.code == 0 and result.json["status"] == "succeeded"
    assert any("notification not delivered" in w for w in result.json["warnings"])
    assert time.monotonic() - start < 30


def test_postgres_metadata_store(cli, pipe, fresh_postgres_db, tmp_path):
    env = {"CONVEYOR_METADATA_URL": fresh_postgres_db}
    first = cli("run", str(pipe), "--json", env=env)
    assert first.code == 0, first.err
    second = cli("run", str(pipe), "--json", env=env).json
    assert {t["status"] for t in second["tasks"]} == {"cached"}
    runs = cli("runs", "--json", env=env).json
    assert len(runs) == 2
    # A stack's profile names the same store: runs/show read it with --profile (cluster runs live there).
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"cloud": "aws", "artifact_root": "s3://bucket/runs", "metadata_url": fresh_postgres_db}))
    via_profile = cli("runs", "--json", "--profile", str(profile)).json
    assert [r["run_id"] for r in via_profile] == [r["run_id"] for r in runs]
    assert cli("show", runs[0]["run_id"], "--json", "--profile", str(profile)).json["status"] == "succeeded"
    parts = urlsplit(fresh_postgres_db)
    closed = urlunsplit(parts._replace(netloc=f"{parts.username}:{parts.password}@127.0.0.1:1"))
    bad = cli("runs", env={"CONVEYOR_METADATA_URL": closed})
    password = parts.password
    assert bad.code == 2 and password not in bad.err


def test_oversized_requests_warn_or_fail_with_strict(cli, write_pipeline):
    path = write_pipeline("""
    @dsl.component
    def big() -> int:
        return 1

    @dsl.pipeline(name="big")
    def big_pipe():
        big().set_cpu_request("512").set_memory_request("64Ti")
    """)
    relaxed = cli("run", str(path), "--json")
    assert relaxed.code == 0
    assert any("requests more than this machine has" in w for w in relaxed.json["warnings"])
    strict = cli("run", str(path), "--strict-resources")
    assert strict.code == 2 and "--strict-resources" in strict.err and "'big'" in strict.err
