"""Load a fixture under conveyor, or under real kfp with only its import lines swapped."""

from __future__ import annotations

import importlib.util
import re
import sys
import warnings
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spec.loader.exec_module(module)
    return module


def as_kfp(source: str) -> str:
    return re.sub(r"^(from|import) conveyor\b", r"\1 kfp", source, flags=re.M)


def import_lines_only(path: Path) -> bool:
    lines = [line for line in path.read_text().splitlines() if "conveyor" in line]
    return bool(lines) and all(re.match(r"^(from conveyor(\.\w+)* import |import conveyor)", ln) for ln in lines)


def load_kfp(path: Path, tmp: Path):
    copy = tmp / f"kfp_{path.name}"
    copy.write_text(as_kfp(path.read_text()))
    return load(copy, f"kfp_{path.stem}")
