"""Run explorer speed at 10,000 runs of 20 tasks, SQLite and Postgres (issue 15).

Seeds the store with Core inserts (the explorer's reads are what is measured, not the writes), then
times the server side of each page through the ASGI app in-process (median and p99 of N requests),
and the first contentful paint of a real 1,000-item-loop run page in headless Chromium.
Goal: every page under 300 ms server time at 10k runs.

    .venv/bin/python bench/bench_ui.py [--runs 10000] [--repeat 30] [--no-postgres] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "pipelines")]

from bench.common import emit, machine, median, percentile  # noqa: E402

LOOP = """
from conveyor import dsl

@dsl.component
def one(x: int) -> int:
    return x

@dsl.pipeline(name="wide")
def wide(items: list = list(range(1000))) -> None:
    with dsl.ParallelFor(items) as item:
        one(x=item)
"""


def seed(store, n_runs: int, tasks_per_run: int = 20) -> None:
    """Rows as the store's API writes them (run_tags from tags.tag_rows, cost stored once a run ended),
    inserted in bulk: what is measured is the explorer's reads, not 200,000 task writes."""
    from conveyor.stores.metadata.schema import metrics, run_tags, runs, tasks
    from conveyor.stores.metadata.tags import tag_rows

    rnd = random.Random(7)
    spec = '{"name": "bench"}'
    t0 = time.time() - n_runs * 60
    run_rows, task_rows, metric_rows, tag_rows_ = [], [], [], []
    for i in range(n_runs):
        rid = f"bench-{i:06d}"
        created = t0 + i * 60
        status = rnd.choice(["succeeded"] * 8 + ["failed", "running"])
        args = {"lr": rnd.choice([0.1, 0.01, 0.001]), "depth": rnd.randint(2, 9)}
        labels = {"team": f"t{i % 3}"}
        costs = [rnd.uniform(0, 0.01) for _ in range(tasks_per_run)]
        run_rows.append(dict(
            run_id=rid, pipeline_name=f"pipe-{i % 5}", pipeline_digest="sha256:" + "0" * 64, spec_json=spec,
            arguments_json=json.dumps(args, sort_keys=True), profile_name="local",
            labels_json=json.dumps(labels, sort_keys=True), status=status,
            error="boom" if status == "failed" else None, outputs_json="{}", created_at=created,
            started_at=created, ended_at=None if status == "running" else created + rnd.uniform(5, 500),
            cost_usd=None if status == "running" else sum(costs)))
        tag_rows_ += tag_rows(rid, labels, args, created)
        for j, cost in enumerate(costs):
            task_rows.append(dict(
                run_id=rid, task_id=f"t{j}", task_name=f"t{j}", status="succeeded", created_at=created + j,
                updated_at=created + j, duration_s=1.0, cost_usd=cost))
        metric_rows.append(dict(run_id=rid, task_id="t19", name="acc", value=rnd.random(), created_at=created))
    with store.engine.begin() as conn:
        for table, rows in ((runs, run_rows), (run_tags, tag_rows_), (tasks, task_rows), (metrics, metric_rows)):
            for k in range(0, len(rows), 5000):
                conn.execute(table.insert(), rows[k:k + 5000])
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE")


def copy_rows(source, target) -> None:
    """Every row of `source` into `target` (the real 1,000-item-loop run, SQLite → Postgres)."""
    from conveyor.stores.metadata.schema import metadata

    with source.engine.connect() as src, target.engine.begin() as dst:
        for table in metadata.sorted_tables:
            rows = [dict(r._mapping) for r in src.execute(table.select())]
            for k in range(0, len(rows), 5000):
                dst.execute(table.insert(), rows[k:k + 5000])
        if dst.dialect.name == "postgresql":  # explicit ids were inserted: move the sequences past them
            for table in metadata.sorted_tables:
                if "id" in table.c and table.c.id.autoincrement is True:
                    dst.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                        f"COALESCE((SELECT MAX(id) FROM {table.name}), 1))")


PAGES = {
    "runs (newest first)": "/",
    "page 50 (keyset cursor)": None,  # filled in: follows `next` 50 times
    "filter pipeline+status": "/?pipeline=pipe-3&status=succeeded",
    "filter param lr=0.01": "/?param=lr%3D0.01",
    "filter tag team=t1": "/?tag=team%3Dt1",
    "filter last 24h": "/?since=24h",
    "sort by duration": "/?sort=duration",
    "sort by cost": "/?sort=cost",
    "sort by metric acc": "/?sort=metric:acc&order=desc",
    "compare 100 runs": "/compare?pipeline=pipe-1&limit=100",
}


def measure(store, artifacts, repeat: int, loop_run: str | None) -> dict:
    import re

    from starlette.testclient import TestClient

    from conveyor.ui import create_app

    client = TestClient(create_app(store, artifacts))
    url = "/"
    for _ in range(50):
        m = re.search(r'id="next" href="([^"]+)"', client.get(url).text)
        if m is None:
            break
        url = "/" + m.group(1).replace("&amp;", "&")
    pages = dict(PAGES, **{"page 50 (keyset cursor)": url})
    if loop_run:
        pages["run page, 1,000-item loop"] = f"/runs/{loop_run}"
    out = {}
    for name, target in pages.items():
        assert client.get(target).status_code == 200, target
        samples = []
        for _ in range(repeat):
            t = time.perf_counter()
            client.get(target)
            samples.append((time.perf_counter() - t) * 1000)
        out[name] = {"median_ms": round(median(samples), 1), "p99_ms": round(percentile(samples, 99), 1)}
    return out


def first_paint(store, artifacts, run_id: str) -> float | None:
    chromium = shutil.which("chromium")
    if chromium is None:
        return None
    import uvicorn
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    from conveyor.ui import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(store, artifacts), host="127.0.0.1", port=0,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    samples: list[float] = []
    tries = 9
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        for _ in range(tries):
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/runs/{run_id}", wait_until="load")
            try:  # the paint entry can land after `load` on a busy machine: wait for it, not past it
                page.wait_for_function("performance.getEntriesByName('first-contentful-paint').length > 0",
                                       timeout=10_000)
                samples.append(page.evaluate("performance.getEntriesByName('first-contentful-paint')[0].startTime"))
            except PlaywrightTimeout:
                pass
            page.close()
        browser.close()
    server.should_exit = True
    thread.join(10)
    if not samples:
        return None
    return {"median_ms": round(median(samples), 1), "p99_ms": round(percentile(samples, 99), 1), "n": len(samples),
            "of": tries}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from conveyor.stores.artifacts import open_artifact_store
    from conveyor.stores.metadata import open_metadata_store

    result: dict = {"machine": machine(), "runs": args.runs, "tasks_per_run": 20, "backends": {}}
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
        home = Path(tmp) / "home"
        pipe = Path(tmp) / "wide.py"
        pipe.write_text(LOOP)
        subprocess.run([sys.executable, "-m", "conveyor", "run", str(pipe)], check=True, capture_output=True,
                       env={**os.environ, "CONVEYOR_HOME": str(home)}, timeout=600)
        artifacts = open_artifact_store(str(home / "artifacts"))
        store = open_metadata_store(f"sqlite:///{home / 'metadata.db'}")
        loop_run = store.list_runs(limit=1)[0].run_id
        stores = {"sqlite": store}
        server = None
        if not args.no_postgres:
            from tests.services.common import service_dir
            from tests.services.postgres import _start_binaries

            server = _start_binaries(service_dir("bench-postgres"))  # a dir the postgres user can enter
            stores["postgres"] = open_metadata_store(server.url)
            copy_rows(store, stores["postgres"])
        try:
            for name, backend in stores.items():
                seed(backend, args.runs)
                pages = measure(backend, artifacts, args.repeat, loop_run)
                pages["first contentful paint, 1,000-item loop (Chromium)"] = first_paint(backend, artifacts,
                                                                                          loop_run)
                result["backends"][name] = pages
                print(name, json.dumps(pages), file=sys.stderr, flush=True)
        finally:
            for backend in stores.values():
                backend.close()
            if server is not None:
                server.stop("immediate")
                shutil.rmtree(server._datadir.parent, ignore_errors=True)
    emit(result, args.json)


if __name__ == "__main__":
    main()
