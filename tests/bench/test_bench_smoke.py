"""Every benchmark script still runs, in a tiny configuration (run_all.py --quick, about 15-25 s).

No timing is asserted here: speed targets live in bench/RESULTS.md, not in tests. This only
keeps the scripts from rotting as the APIs they drive change.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_benchmark_runs_in_a_tiny_configuration(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run_all.py"), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    data = json.loads((tmp_path / "results.json").read_text())
    benchmarks = data["benchmarks"]
    assert {"chain", "fanout", "warm", "cache"} <= set(benchmarks)
    for name in ("chain", "fanout", "warm", "cache"):
        assert benchmarks[name]["rc"] == 0 and "result" in benchmarks[name], benchmarks[name]
    # Every task but the exit handler's notify, which reads the run's final status and so runs every time.
    assert benchmarks["warm"]["result"]["cached"] == ["10/11"]
    assert benchmarks["cache"]["result"]["sqlite"]["lookups"] == 100
    report = (tmp_path / "RESULTS.md").read_text()
    assert "## Summary" in report and "kfp.local" in report
