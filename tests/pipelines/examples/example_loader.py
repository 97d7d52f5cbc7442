"""Load example pipeline files by path, the way `conveyor run FILE` does."""

import importlib.util
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[3] / "pipelines" / "examples"


def load_file(path: Path, module_name: str):
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def load_example(relative: str):
    path = EXAMPLES / relative
    return load_file(path, "example_" + relative.replace("/", "_").removesuffix(".py"))
