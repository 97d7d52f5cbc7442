"""The explorer's read side (RunBrowser) on SQLite and Postgres: indexed tag/param filters, the stored
cost sort key, keyset pages that neither skip nor repeat a run, and migration 0003's backfill."""

from __future__ import annotations

import json

import pytest
from alembic import command
from sqlalchemy import create_engine, select, text

from conveyor.stores.metadata import migrate, open_metadata_store
from conveyor.stores.metadata.browse import RunQuery
from conveyor.stores.metadata.schema import run_tags, runs
from conveyor.stores.metadata.urls import normalize_url

DIGEST = "sha256:" + "0" * 64


def _run(store, run_id, *, args=None, labels=None, costs=(), status="succeeded", now=100.0):
    store.create_run(run_id, "p", DIGEST, "{}", args or {}, labels=labels or {}, status="running", now=now)
    for i, cost in enumerate(costs):
        store.upsert_task(run_id, f"t{i}", task_name=f"t{i}", status="succeeded", cost_usd=cost, now=now)
    if status != "running":
        store.set_run_status(run_id, status, now=now + 1)


def _ids(page):
    return [r.run_id for r in page.runs]


def test_tag_and_param_filters_read_the_tags_table(metadata_store):
    _run(metadata_store, "a", args={"lr": 0.001, "opt": "adam", "flag": True}, labels={"team": "x"}, now=1.0)
    _run(metadata_store, "b", args={"lr": 0.01, "opt": "sgd", "flag": False}, labels={"team": "y"}, now=2.0)
    _run(metadata_store, "c", args={"lr": 0.001, "opt": "sgd"}, labels={"team": "x", "stage": "prod"}, now=3.0)
    b = metadata_store.browser()
    assert _ids(b.runs_page(RunQuery(tag=("team", "x")))) == ["c", "a"]
    assert b.runs_page(RunQuery(tag=("team", "x"))).total == 2
    assert _ids(b.runs_page(RunQuery(param=("lr", "1e-3")))) == ["c", "a"]  # numbers compare as numbers
    assert _ids(b.runs_page(RunQuery(param=("opt", "sgd"), tag=("team", "x")))) == ["c"]
    assert _ids(b.runs_page(RunQuery(param=("flag", "true")))) == ["a"]
    assert _ids(b.runs_page(RunQuery(tag=("team", "z")))) == []
    with metadata_store.engine.connect() as conn:
        found = {(r.run_id, r.kind, r.name, r.value) for r in conn.execute(select(run_tags))}
    assert ("a", "param", "lr", "0.001") in found and ("c", "label", "stage", "prod") in found
    assert len(found) == 3 + 3 + 2 + 1 + 1 + 2  # every label and argument, one row each


def test_a_value_too_long_to_index_is_still_found(metadata_store):
    long = "v" * 400
    _run(metadata_store, "a", args={"note": long, "items": list(range(200))}, now=1.0)
    _run(metadata_store, "b", args={"note": "short"}, now=2.0)
    with metadata_store.engine.connect() as conn:
        names = {r.name for r in conn.execute(select(run_tags.c.name).where(run_tags.c.run_id == "a"))}
    assert names == set()  # neither is indexed ...
    b = metadata_store.browser()
    assert _ids(b.runs_page(RunQuery(param=("note", long)))) == ["a"]  # ... yet the JSON column answers
    assert _ids(b.runs_page(RunQuery(param=("note", "short")))) == ["b"]


def test_cost_is_stored_when_the_run_ends_and_sorts_with_keyset_pages(metadata_store):
    for i, costs in enumerate([(1.0, 2.0), (0.5,), (3.0,), (0.5,), (), (2.0, 0.25)]):
        _run(metadata_store, f"r{i}", costs=costs, now=float(i))
    _run(metadata_store, "live", costs=(9.0,), status="running", now=10.0)
    with metadata_store.engine.connect() as conn:
        stored = dict(conn.execute(select(runs.c.run_id, runs.c.cost_usd)).all())
    assert stored == {"r0": 3.0, "r1": 0.5, "r2": 3.0, "r3": 0.5, "r4": 0.0, "r5": 2.25, "live": None}
    b = metadata_store.browser()
    seen, after = [], None
    while True:  # pages of 2 over ties (3.0, 3.0 and 0.5, 0.5): nothing skipped, nothing twice
        page = b.runs_page(RunQuery(sort="cost", limit=2, after=after))
        seen += [(r.run_id, r.sort_value, r.cost_usd) for r in page.runs]
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert [s[0] for s in seen] == ["r0", "r2", "r5", "r1", "r3", "r4", "live"]
    assert seen[-1][1:] == (None, 9.0)  # still running: last by cost, but its live cost is shown
    assert _ids(b.runs_page(RunQuery(sort="cost", descending=False, limit=3))) == ["live", "r4", "r1"]
    metadata_store.set_run_status("r0", "running", now=20.0)  # resumed: no stored cost until it ends again
    metadata_store.upsert_task("r0", "t9", task_name="t9", status="succeeded", cost_usd=10.0)
    metadata_store.set_run_status("r0", "succeeded", now=21.0)
    assert _ids(b.runs_page(RunQuery(sort="cost", limit=1))) == ["r0"]
    assert metadata_store.get_run("r0").cost_usd == 13.0


def test_start_order_pages_cover_every_run_once(metadata_store):
    for i in range(23):
        _run(metadata_store, f"r{i:02d}", now=float(i // 3))  # ties of three on created_at
    b = metadata_store.browser()
    seen, after = [], None
    while True:
        page = b.runs_page(RunQuery(limit=5, after=after))
        seen += _ids(page)
        if not (after := page.next_cursor):
            break
    assert sorted(seen) == [f"r{i:02d}" for i in range(23)] and len(seen) == 23


def test_migration_0003_backfills_tags_and_cost(metadata_url):
    engine = create_engine(normalize_url(metadata_url))
    with engine.begin() as conn:
        command.upgrade(migrate.alembic_config(conn), "0002")
        conn.execute(text(
            "INSERT INTO runs (run_id, pipeline_name, pipeline_digest, spec_json, arguments_json, profile_name, "
            "labels_json, status, outputs_json, created_at, started_at, ended_at) VALUES "
            "(:id, 'p', 'd', '{}', :args, 'local', :labels, :status, '{}', 1.0, 1.0, :ended)"),
            [{"id": "old", "args": json.dumps({"lr": 0.1}), "labels": json.dumps({"team": "x"}),
              "status": "succeeded", "ended": 5.0},
             {"id": "going", "args": "{}", "labels": json.dumps({"team": "x"}), "status": "running", "ended": None}])
        conn.execute(text("INSERT INTO tasks (run_id, task_id, task_name, status, cost_usd, created_at, updated_at) "
                          "VALUES (:r, :t, :t, 'succeeded', :c, 1.0, 1.0)"),
                     [{"r": "old", "t": "a", "c": 1.5}, {"r": "old", "t": "b", "c": 0.5},
                      {"r": "going", "t": "a", "c": 7.0}])
    engine.dispose()
    store = open_metadata_store(metadata_url)
    try:
        with store.engine.connect() as conn:
            assert migrate.current_revision(conn) == migrate.HEAD_REVISION
            assert dict(conn.execute(select(runs.c.run_id, runs.c.cost_usd)).all()) == {"old": 2.0, "going": None}
        b = store.browser()
        assert sorted(_ids(b.runs_page(RunQuery(tag=("team", "x"))))) == ["going", "old"]
        assert _ids(b.runs_page(RunQuery(param=("lr", "0.1")))) == ["old"]
        assert _ids(b.runs_page(RunQuery(sort="cost", limit=1))) == ["old"]
    finally:
        store.close()


def test_schedules_are_recorded_and_their_firings_found_by_label(metadata_store):
    first = metadata_store.record_schedule("nightly", "train", " 0 3 * * * ", timezone="UTC", namespace="ml", now=5.0)
    assert (first.cron, first.timezone, first.namespace, first.created_at) == ("0 3 * * *", "UTC", "ml", 5.0)
    again = metadata_store.record_schedule("nightly", "train", "0 4 * * *", now=9.0)
    assert (again.cron, again.timezone, again.created_at, again.updated_at) == ("0 4 * * *", None, 5.0, 9.0)
    with pytest.raises(Exception, match="a name and a cron expression are required"):
        metadata_store.record_schedule("x", "train", "  ")
    for i in range(3):
        _run(metadata_store, f"n{i}", labels={"schedule": "nightly"}, now=float(i))
    _run(metadata_store, "other", labels={"team": "nightly"}, now=10.0)
    b = metadata_store.browser()
    assert [s.name for s in b.schedules()] == ["nightly"]
    firings = b.schedule_firings(per_schedule=2)
    assert list(firings) == ["nightly"] and [r.run_id for r in firings["nightly"]] == ["n2", "n1"]


@pytest.mark.parametrize("typed, stored", [("0.010", "0.01"), ("5", "5"), ("adam", "adam"), ("[1, 2]", "[1,2]"),
                                           ('"5"', '"5"')])
def test_query_text_normalises_json_that_is_not_a_string(typed, stored):
    from conveyor.stores.metadata.tags import query_text

    assert query_text(typed) == stored
