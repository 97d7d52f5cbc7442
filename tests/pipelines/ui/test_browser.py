"""A real headless Chromium (Debian's chromium, driven by Playwright) clicks through the explorer
while a real local run is going, and saves screenshots as test artifacts.

Screenshots go to $CONVEYOR_TEST_ARTIFACTS/ui (default .test-artifacts/ui, git-ignored), so CI can
keep them; CONVEYOR_UPDATE_DOCS_IMAGES=1 also refreshes the README's docs/img/ui-run.png from this
test (off by default: a test run should not rewrite a tracked file).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[3]

PIPELINE = """
from conveyor import dsl
from conveyor.dsl import Input, Output, Dataset, Metrics

@dsl.component
def make(n: int, data: Output[Dataset]) -> int:
    print("rows", n)
    with open(data.path, "w") as fh:
        fh.write("a,b\\n" + "\\n".join(f"{i},{i * i}" for i in range(n)))
    return n

@dsl.component
def square(x: int) -> int:
    return x * x

@dsl.component
def score(data: Input[Dataset], wait: float, m: Output[Metrics]) -> float:
    import time
    time.sleep(wait)
    m.log_metric("acc", 0.5 + 0.01 * len(open(data.path).read().splitlines()))
    return 0.9

@dsl.pipeline(name="ui-demo")
def demo(n: int = 5, wait: float = 0.0, items: list = [1, 2, 3, 4, 5, 6, 7, 8]) -> float:
    d = make(n=n)
    with dsl.ParallelFor(items) as item:
        square(x=item)
    return score(data=d.outputs["data"], wait=wait).outputs["Output"]
"""


def _run(home: Path, pipe: Path, *params: str, background: bool = False):
    env = {**os.environ, "CONVEYOR_HOME": str(home)}
    cmd = [sys.executable, "-m", "conveyor", "run", str(pipe), *(a for p in params for a in ("-p", p))]
    if background:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=240)
    return None


@pytest.fixture
def served(tmp_path):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CONVEYOR_REQUIRE_SERVICES"):
            pytest.fail("chromium is not installed (.ci/run installs it: apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    import uvicorn

    from conveyor.stores.artifacts import open_artifact_store
    from conveyor.stores.metadata import open_metadata_store
    from conveyor.ui import create_app

    home = tmp_path / "home"
    pipe = tmp_path / "ui_demo.py"
    pipe.write_text(textwrap.dedent(PIPELINE))
    for n in (3, 5, 8):
        _run(home, pipe, f"n={n}")
    store = open_metadata_store(f"sqlite:///{home / 'metadata.db'}")
    server = uvicorn.Server(uvicorn.Config(create_app(store, open_artifact_store(str(home / "artifacts"))),
                                           host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", home, pipe
    server.should_exit = True
    thread.join(10)
    store.close()


def _shots_dir() -> Path:
    shots = Path(os.environ.get("CONVEYOR_TEST_ARTIFACTS") or ROOT / ".test-artifacts") / "ui"
    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob("*.png"):
        old.unlink()
    return shots


def test_click_through_and_live_status(served):
    from playwright.sync_api import expect, sync_playwright

    base, home, pipe = served
    shots = _shots_dir()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(base + "/")
        expect(page.locator("#total")).to_have_text("3")
        page.screenshot(path=shots / "runs.png", full_page=True)
        page.locator("a.run-link").first.click()
        expect(page.locator("#dag")).to_be_visible()
        loop = page.locator("[data-node^='loop:']")
        expect(loop).to_contain_text(re.compile(r"(succeeded|cached) 8"))
        page.screenshot(path=shots / "run.png", full_page=True)
        if os.environ.get("CONVEYOR_UPDATE_DOCS_IMAGES") == "1":
            shutil.copy(shots / "run.png", ROOT / "docs" / "img" / "ui-run.png")
        page.locator("a.task-link", has_text="make").click()
        expect(page.locator("#attempts")).to_contain_text("succeeded")
        expect(page.locator("pre.log")).to_contain_text("rows")
        page.locator("a.artifact-link").first.click()
        expect(page.locator("#table-preview")).to_contain_text("a")
        page.screenshot(path=shots / "artifact.png", full_page=True)
        page.goto(base + "/")
        for box in page.locator("input[name=run]").all():
            box.check()
        page.locator("#compare-selected").click()
        expect(page.locator("#compare")).to_contain_text("n")
        expect(page.locator("#parallel")).to_be_visible()
        page.screenshot(path=shots / "compare.png", full_page=True)

        proc = _run(home, pipe, "n=4", "wait=6", background=True)
        try:
            page.goto(base + "/")
            expect(page.locator("#total")).to_have_text("4", timeout=30_000)
            row = page.locator("#runs tbody tr").first.locator(".run-status")
            expect(row).to_contain_text("running", timeout=30_000)
            expect(row).to_contain_text("succeeded", timeout=90_000)  # the list updates itself: no reload
            proc2 = _run(home, pipe, "n=6", "wait=6", background=True)
            try:
                page.goto(base + "/")
                expect(page.locator("#total")).to_have_text("5", timeout=30_000)
                page.locator("a.run-link").first.click()
                score = page.locator("[data-node='task:score']")
                expect(page.locator("#run-status")).to_contain_text("running", timeout=30_000)
                expect(score).to_have_attribute("data-status", "running", timeout=60_000)
                page.screenshot(path=shots / "live-running.png", full_page=True)
                expect(page.locator("#run-status")).to_contain_text("succeeded", timeout=90_000)  # polling
                expect(score).to_have_attribute("data-status", "succeeded")
                page.screenshot(path=shots / "live-done.png", full_page=True)
            finally:
                proc2.wait(120)
        finally:
            proc.wait(120)
        browser.close()
    # Playwright's own screenshot helper injects a <style> (hiding the caret) that our CSP blocks: not ours.
    errors = [e for e in errors if "Applying inline style" not in e]
    assert not errors, errors  # no script error, no blocked script of ours
    assert all((shots / f).stat().st_size > 1000 for f in ("runs.png", "run.png", "artifact.png", "compare.png",
                                                           "live-running.png", "live-done.png"))
