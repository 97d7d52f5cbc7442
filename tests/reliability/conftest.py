"""The reliability suite's pytest plumbing: every test is marked, and the session ends with a table.

`make reliability` sets CONVEYOR_RELIABILITY=full (20 crash trials, 50 SQLite / 200 Postgres
concurrent runs); without it the short form runs inside `make test` and CI. Either way the
terminal summary prints one row per area — how many trials or cases ran, passed, failed — plus
the notes tests leave (throughput, where each crash landed), so the suite's claim is readable
without scrolling through pytest output.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests.reliability.helpers import FULL

AREAS = {  # module -> (area, what one test is)
    "test_crash_resume": ("crash and resume", "trials"),
    "test_faults": ("fault injection", "cases"),
    "test_faults_services": ("fault injection (services)", "cases"),
    "test_concurrency": ("concurrency", "scenarios"),
    "test_bad_inputs": ("bad-input catalogue", "cases"),
}
_OUTCOMES: dict[str, dict[str, str]] = defaultdict(dict)  # area -> nodeid -> outcome


class Notes:
    """Lines a test wants in the summary (throughput, crash points), grouped by topic."""

    def __init__(self) -> None:
        self.lines: dict[str, list[str]] = defaultdict(list)

    def append(self, topic: str, line: str) -> None:
        self.lines[topic].append(line)


_NOTES = Notes()


@pytest.fixture(scope="session")
def reliability_notes() -> Notes:
    return _NOTES


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/reliability/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.reliability)


def _area(nodeid: str) -> str | None:
    module = nodeid.split("::", 1)[0].rsplit("/", 1)[-1].removesuffix(".py")
    return module if module in AREAS else None


def pytest_runtest_logreport(report):
    area = _area(report.nodeid)
    if area is None:
        return
    seen = _OUTCOMES[area]
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        seen[report.nodeid] = report.outcome
    elif report.when == "teardown" and report.outcome == "failed":
        seen[report.nodeid] = "failed"


def pytest_terminal_summary(terminalreporter):
    if not _OUTCOMES:
        return
    tr = terminalreporter
    form = "full (CONVEYOR_RELIABILITY=full)" if FULL else "short (make reliability runs the full form)"
    tr.write_sep("=", f"reliability summary: {form}")
    tr.write_line(f"{'area':<30}{'ran':>6}  {'unit':<10}{'passed':>7}{'failed':>7}{'skipped':>8}")
    totals = [0, 0, 0, 0]
    for module, (area, unit) in AREAS.items():
        outcomes = list(_OUTCOMES.get(module, {}).values())
        if not outcomes:
            continue
        row = [len(outcomes), outcomes.count("passed"), outcomes.count("failed"), outcomes.count("skipped")]
        totals = [a + b for a, b in zip(totals, row)]
        tr.write_line(f"{area:<30}{row[0]:>6}  {unit:<10}{row[1]:>7}{row[2]:>7}{row[3]:>8}")
    tr.write_line(f"{'total':<30}{totals[0]:>6}  {'':<10}{totals[1]:>7}{totals[2]:>7}{totals[3]:>8}")
    verdict = "PASS" if totals[2] == 0 and totals[3] == 0 else "FAIL" if totals[2] else "PASS (with skips)"
    tr.write_line(f"verdict: {verdict}")
    for topic, lines in _NOTES.lines.items():
        tr.write_line(f"-- {topic}")
        for line in lines:
            tr.write_line(f"   {line}")
