"""Every numeric CLI option (duration, count, limit, parallelism) refuses zero and negatives.

`conveyor cache prune --older-than -5` used to delete every entry; now each option is checked
at parse time, before anything is opened or written, with an error naming the option.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from conveyor.cli.app import app

CASES = [
    (["cache", "prune", "--older-than", "-5"], "--older-than"),
    (["cache", "prune", "--older-than", "0"], "--older-than"),
    (["cache", "ls", "--limit", "0"], "--limit"),
    (["runs", "--limit", "-1"], "--limit"),
    (["run", "p.py", "--parallelism", "0"], "--parallelism"),
    (["run", "p.py", "-j", "-2"], "--parallelism"),
    (["run", "p.py", "--max-cache-staleness", "-1"], "--max-cache-staleness"),
    (["resume", "some-run", "--parallelism", "-1"], "--parallelism"),
    (["submit", "p.py", "--timeout", "-1"], "--timeout"),
    (["submit", "p.py", "--max-cache-staleness", "0"], "--max-cache-staleness"),
]


@pytest.mark.parametrize(("args", "option"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_zero_or_negative_is_refused_naming_the_option(args, option, home):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split()).replace("│ ", "").replace(" │", "")
    assert f"Invalid value for '{option}" in text and "greater than 0" in text
    assert not (home / "metadata.db").exists()  # refused before any store was opened


def test_a_refused_prune_keeps_every_entry(cli, write_pipeline):
    pipe = write_pipeline("""
@dsl.component
def one() -> int:
    return 1

@dsl.pipeline(name="bounds")
def bounds():
    one()
""")
    assert cli("run", str(pipe), "--json").code == 0
    refused = cli("cache", "prune", "--older-than", "-5", "--json")
    assert refused.code == 2 and "--older-than" in refused.err
    assert len(cli("cache", "ls", "--json").json) == 1
    assert cli("cache", "prune", "--older-than", "3600", "--json").json == {"removed": 0}
