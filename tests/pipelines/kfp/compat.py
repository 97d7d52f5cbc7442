"""Run one fixture file under real kfp and under conveyor, with only its import lines swapped.

The fixtures are written for conveyor (`from conveyor import dsl`); `as_kfp` swaps the import lines
back, and `run_kfp` runs that copy with kfp's own local runner (`SubprocessRunner(use_venv=False)`)
in a child process, so kfp's global runner state never leaks into the test process.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
_IMPORTS = [
    (r"^from conveyor import (.*)$", r"from kfp import \1"),
    (r"^from conveyor\.dsl(\S*) import", r"from kfp.dsl\1 import"),
    (r"^import conveyor as kfp$", "import kfp"),
]
_RUNNER = """
import json, sys, importlib.util, warnings
warnings.simplefilter("ignore")
from kfp import local
import os; os.makedirs(sys.argv[2] + "-workspace", exist_ok=True)  # dsl.PipelineConfig workspaces
local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=sys.argv[2], workspace_root=sys.argv[2] + "-workspace")
spec = importlib.util.spec_from_file_location("kfp_fixture", sys.argv[1])
module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
task = getattr(module, sys.argv[3])(**json.loads(sys.argv[4]))
def plain(v):
    if isinstance(v, list):
        return [plain(x) for x in v]
    return {"uri": v.uri, "metadata": v.metadata, "type": type(v).__name__} if hasattr(v, "uri") else v
print("KFP-OUTPUTS " + json.dumps({k: plain(v) for k, v in task.outputs.items()}))
"""


def fixture(name: str) -> Path:
    return FIXTURES / name


def as_kfp(source: str) -> str:
    for pattern, repl in _IMPORTS:
        source = re.sub(pattern, repl, source, flags=re.M)
    return source


def only_imports_mention_conveyor(path: Path) -> bool:
    lines = [line for line in path.read_text().splitlines() if "conveyor" in line]
    return bool(lines) and all(re.match(r"^(from conveyor(\.\S+)? import |import conveyor as kfp$)", ln)
                               for ln in lines)


def run_kfp(path: Path, pipeline: str, tmp_path: Path, arguments: dict | None = None) -> dict:
    """The pipeline's outputs as kfp's local runner reports them (raises with kfp's log on failure)."""
    copy = tmp_path / f"kfp_{path.name}"
    copy.write_text(as_kfp(path.read_text()))
    proc = subprocess.run([sys.executable, "-c", _RUNNER, str(copy), str(tmp_path / "kfp-root"), pipeline,
                           json.dumps(arguments or {})], capture_output=True, text=True, timeout=600,
                          cwd=tmp_path)
    for line in proc.stdout.splitlines():
        if line.startswith("KFP-OUTPUTS "):
            return json.loads(line[len("KFP-OUTPUTS "):])
    raise AssertionError(f"kfp run of {path.name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")


def compile_with_kfp(path: Path, tmp_path: Path, pipeline: str = "") -> Path:
    """Compile the kfp copy of a fixture with kfp's compiler (in a child process); the YAML path.
    `pipeline` names the pipeline; by default the file's first one."""
    copy = tmp_path / f"kfp_{path.name}"
    copy.write_text(as_kfp(path.read_text()))
    out = tmp_path / f"{path.stem}.kfp.yaml"
    code = ("import importlib.util, sys, warnings; warnings.simplefilter('ignore');"
            "from kfp import compiler, dsl;"
            "s = importlib.util.spec_from_file_location('kfp_fixture', sys.argv[1]);"
            "m = importlib.util.module_from_spec(s); s.loader.exec_module(m);"
            "p = [v for v in vars(m).values() if type(v).__name__ == 'GraphComponent'];"
            "compiler.Compiler().compile(getattr(m, sys.argv[3]) if sys.argv[3] else p[0], sys.argv[2])")
    proc = subprocess.run([sys.executable, "-c", code, str(copy), str(out), pipeline], capture_output=True, text=True,
                          timeout=300)
    if proc.returncode:
        raise AssertionError(f"kfp could not compile {path.name}:\n{proc.stderr[-3000:]}")
    return out
