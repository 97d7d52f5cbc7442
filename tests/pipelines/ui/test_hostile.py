"""Hostile names and artifacts are escaped or refused cleanly; secrets never reach a page."""

from __future__ import annotations

import pytest

from conveyor.runtime.protocol.tasklog import persist_log
from conveyor.ui.security import BindError, check_bind
from tests.pipelines.ui.conftest import HOSTILE, add_run, put_artifact


def test_script_in_run_names_params_errors_is_escaped(stores, client):
    store, _ = stores
    add_run(store, "r1", name=HOSTILE, args={"lr": HOSTILE}, labels={"team": HOSTILE}, status="failed",
            error=HOSTILE, tasks=[("t", "failed", HOSTILE)])
    for url in ("/", "/runs/r1", "/runs/r1/tasks/t", "/compare?run=r1&all=1"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert HOSTILE not in page.text, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, url
        assert "script-src 'nonce-" in page.headers["content-security-policy"]


def test_failed_run_shows_the_task_error_first(stores, client):
    store, _ = stores
    add_run(store, "r2", status="failed", tasks=[("ok", "succeeded", None), ("bad", "failed", "boom: disk full")])
    text = client.get("/runs/r2").text
    assert text.index("boom: disk full") < text.index("Graph" if "Graph" in text else "Tasks")


def test_secrets_are_redacted(stores, client):
    store, _ = stores
    hook = "https://hooks.slack.com/services/T000/B000/SECRETSECRET"
    add_run(store, "r3", args={"webhook": hook, "db": "postgresql://u:hunter22@db/x"}, error=f"posting {hook}")
    text = client.get("/runs/r3").text + client.get("/").text
    assert "SECRETSECRET" not in text and "hunter22" not in text


def test_log_of_50_mb_is_truncated_and_streamed(stores, client, tmp_path):
    store, artifacts = stores
    add_run(store, "r4", tasks=[("t", "succeeded", None)])
    log = tmp_path / "log.txt"
    with log.open("w") as fh:
        line = "x" * 99 + "\n"
        for _ in range(500_000):
            fh.write(line)
        fh.write(HOSTILE + " https://x.example/cb?token=abcdef123456 end\n")
    assert persist_log(store, artifacts, "r4", "t", 1, log) is not None
    page = client.get("/runs/r4/tasks/t")
    assert page.status_code == 200 and len(page.text) < 200_000
    assert "last 64 KiB" in page.text and HOSTILE not in page.text and "abcdef123456" not in page.text
    with client.stream("GET", "/runs/r4/tasks/t/log/1") as raw:
        assert raw.headers["content-type"].startswith("text/plain")
        assert "sandbox" in raw.headers["content-security-policy"]
        size = sum(len(chunk) for chunk in raw.iter_bytes())
    assert size > 50_000_000


def test_broken_markdown_and_html_and_malformed_metrics(stores, client, tmp_path):
    store, artifacts = stores
    add_run(store, "r5", tasks=[("t", "succeeded", None)])
    md = put_artifact(store, artifacts, tmp_path, "r5", "t", "md", b"# t\n[x](javascript:alert(1))\n<img src=x onerror=alert(1)>\n```unclosed", "Markdown")
    html = put_artifact(store, artifacts, tmp_path, "r5", "t", "html", b"<h1>hi</h1><script>alert(1)</script>", "HTML")
    bad = put_artifact(store, artifacts, tmp_path, "r5", "t", "m", b"", "Metrics", {"acc": "NaN<b>", "x": [1]})
    cm = put_artifact(store, artifacts, tmp_path, "r5", "t", "cm", b"", "ClassificationMetrics",
                      {"confusionMatrix": {"annotationSpecs": [{"displayName": "a"}], "rows": [{"row": [1, 2]}]}})
    page = client.get(f"/artifacts/{md.id}").text
    assert "href=\"javascript:" not in page and "<img src=x" not in page and "&lt;img" in page
    page = client.get(f"/artifacts/{html.id}").text
    assert 'sandbox=""' in page and "<script>alert" not in page
    raw = client.get(f"/artifacts/{html.id}/raw")
    assert raw.headers["content-security-policy"].startswith("sandbox")
    page = client.get(f"/artifacts/{bad.id}")
    assert page.status_code == 200 and "malformed Metrics" in page.text and "<b>" not in page.text
    page = client.get(f"/artifacts/{cm.id}")
    assert page.status_code == 200 and "malformed ClassificationMetrics" in page.text


def test_bad_filters_are_refused_with_a_clear_message(stores, client):
    for url, words in (("/?status=bogus", "is not one of"), ("/?since=yesterday", "since="),
                       ("/?after=%%%", "cursor"), ("/?param=lr", "NAME=VALUE"), ("/runs/nope", "does not exist")):
        page = client.get(url)
        assert page.status_code in (400, 404) and words in page.text, url


def test_only_reads_and_non_loopback_needs_a_token():
    with pytest.raises(BindError, match="--token"):
        check_bind("0.0.0.0", None)
    check_bind("127.0.0.1", None)
    check_bind("::1", None)


def test_token_guards_every_page(stores):
    from starlette.testclient import TestClient

    from conveyor.ui import create_app

    store, artifacts = stores
    c = TestClient(create_app(store, artifacts, token="t" * 20))
    assert c.get("/").status_code == 401
    assert c.get("/?token=" + "x" * 20).status_code == 401
    assert c.get("/?token=" + "t" * 20).status_code == 200  # follows the redirect with the cookie
    assert c.get("/").status_code == 200
    assert c.post("/").status_code == 405
