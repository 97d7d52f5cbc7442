"""Schedules show the recorded cron, the last firing from metadata and the next one computed from the
cron; a task whose log is absent says so and why."""

from __future__ import annotations

import datetime as dt
import re

from conveyor.runtime.protocol.tasklog import persist_log
from conveyor.ui.views_schedules import next_firing
from tests.pipelines.ui.conftest import add_run


def _row(text: str, name: str) -> str:
    m = re.search(rf'<tr data-schedule="{name}">(.*?)</tr>', text, re.S)
    assert m, f"no row for schedule {name}"
    return m.group(1)


def test_next_firing_follows_the_cron_in_its_timezone():
    now = dt.datetime(2026, 12, 2, 12, 30, tzinfo=dt.UTC).timestamp()
    assert next_firing("0 3 * * *", None, now)[0] == dt.datetime(2026, 12, 3, 3, 0, tzinfo=dt.UTC).timestamp()
    assert next_firing("*/15 * * * *", None, now)[0] == dt.datetime(2026, 12, 2, 12, 45, tzinfo=dt.UTC).timestamp()
    # 03:00 in Berlin (UTC+1 in December) is 02:00 UTC
    berlin = next_firing("0 3 * * *", "Europe/Berlin", now)[0]
    assert berlin == dt.datetime(2026, 12, 3, 2, 0, tzinfo=dt.UTC).timestamp()
    assert next_firing("@daily", None, now)[0] == dt.datetime(2026, 12, 3, 0, 0, tzinfo=dt.UTC).timestamp()
    assert next_firing("0 3 * * *", "Mars/Olympus", now) == (None, "unknown timezone 'Mars/Olympus'")
    value, why = next_firing("@every 1h", None, now)
    assert value is None and "cannot be evaluated" in why


def test_schedules_page_shows_cron_last_and_next_firing(stores, client):
    store, _ = stores
    store.record_schedule("nightly", "train", "0 3 * * *", timezone="Europe/Berlin", namespace="ml")
    store.record_schedule("fresh", "train", "*/5 * * * *")
    add_run(store, "nightly-1", name="train", labels={"schedule": "nightly"}, now=1_700_000_000.0)
    add_run(store, "nightly-2", name="train", labels={"schedule": "nightly"}, status="failed", now=1_700_086_400.0)
    add_run(store, "legacy-1", name="old", labels={"schedule": "legacy"}, now=1_700_000_000.0)
    add_run(store, "plain", name="train", now=1_700_090_000.0)
    text = client.get("/schedules").text
    nightly = _row(text, "nightly")
    assert "0 3 * * *" in nightly and "Europe/Berlin" in nightly
    assert 'href="/runs/nightly-2"' in nightly and "2023-11-15 22:13:20" in nightly  # the newest firing
    nxt = re.search(r'class="next">([^<]+)<', nightly).group(1)
    when = dt.datetime.strptime(nxt, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
    assert when.hour == 2 and when.minute == 0 and when.timestamp() > dt.datetime.now(dt.UTC).timestamp()
    assert "not fired yet" in _row(text, "fresh")
    assert "cron not recorded" in _row(text, "legacy")
    assert 'data-schedule="plain"' not in text
    again = store.record_schedule("nightly", "train", "0 4 * * *")  # --replace updates the row
    assert again.cron == "0 4 * * *" and again.timezone is None
    assert "0 4 * * *" in _row(client.get("/schedules").text, "nightly")


def test_absent_log_is_explained_per_attempt(stores, client, tmp_path):
    store, artifacts = stores
    add_run(store, "r", tasks=[("t", "failed", "boom")])
    first = store.start_attempt("r", "t", 1)
    store.finish_attempt(first, "failed", failure_class="transient", error="boom")
    second = store.start_attempt("r", "t", 2)
    store.finish_attempt(second, "failed", failure_class="killed", error="oom")
    log = tmp_path / "a1.log"
    log.write_text("hello from attempt one\n")
    persist_log(store, artifacts, "r", "t", 1, log)
    text = client.get("/runs/r/tasks/t").text
    assert "hello from attempt one" in text
    absent = re.findall(r'<h3>(attempt \d)</h3>\s*<p class="problem log-absent">([^<]+)', text)
    assert absent == [("attempt 2", absent[0][1])] and "no log was persisted" in absent[0][1]


def test_cache_hit_without_attempts_points_at_the_producer(stores, client):
    store, _ = stores
    add_run(store, "src", tasks=[("t", "succeeded", None)])
    add_run(store, "hit", tasks=[("t", "cached", None)])
    store.upsert_task("hit", "t", cached_from_run="src", cached_from_task="t")
    text = client.get("/runs/hit/tasks/t").text
    assert "a cache hit runs nothing" in text and 'href="/runs/src/tasks/t">open the producing task' in text


def test_hostile_schedule_names_and_crons_are_escaped(stores, client):
    from tests.pipelines.ui.conftest import HOSTILE

    store, _ = stores
    store.record_schedule(HOSTILE, HOSTILE, HOSTILE, timezone=HOSTILE)
    page = client.get("/schedules")
    assert page.status_code == 200 and HOSTILE not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "unknown timezone" in page.text
