"""conveyor: ML pipelines that run the same on a laptop and on the platform.

`from conveyor import dsl` to write pipelines; `conveyor.run(pipeline, arguments={...})` runs one
locally and returns a `RunResult` (the same object `conveyor run --json` prints).
"""

from __future__ import annotations

import inspect
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conveyor.executor.run import RunResult

__version__ = "0.1.0"


def run(pipeline_func: Any, arguments: dict[str, Any] | None = None, **options: Any) -> RunResult | None:
    """Run a `@dsl.pipeline` locally. Options are those of `conveyor run` (use_cache, parallelism,
    max_cache_staleness_s, strict_resources, notify, pushgateway, ...).

    Returns None without running when called while a task worker imports the pipeline's file
    (a script that calls `conveyor.run` at top level must not start a run inside its own tasks).
    """
    if os.environ.get("CONVEYOR_PRELOADING") == "1":
        return None
    from conveyor.executor.run import LocalRunner, RunOptions

    func = getattr(pipeline_func, "python_func", None) or pipeline_func
    if not hasattr(pipeline_func, "pipeline_spec") and hasattr(pipeline_func, "as_pipeline"):
        pipeline_func = pipeline_func.as_pipeline()  # a component runs as a one-task pipeline, as in kfp
    spec = pipeline_func.pipeline_spec
    try:
        preload = [inspect.getfile(func)]
    except (TypeError, OSError):
        preload = []
    runner = LocalRunner()
    try:
        return runner.run(spec, arguments or {}, options=RunOptions(**options), preload=preload)
    finally:
        runner.close()


_LAZY = {"dsl": "conveyor.dsl", "compiler": "conveyor.compiler", "components": "conveyor.components",
         "v2": "conveyor.v2"}


def __getattr__(name: str) -> Any:
    """`conveyor.dsl`, `conveyor.compiler`, ... imported on first use, so `import conveyor` stays cheap."""
    if name in _LAZY:
        import importlib

        return importlib.import_module(_LAZY[name])
    raise AttributeError(f"module 'conveyor' has no attribute {name!r}")
