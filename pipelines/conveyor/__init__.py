"""conveyor: ML pipelines that run the same on a laptop and on the platform.

`from conveyor import dsl` to write pipelines; `conveyor.run(pipeline, arguments={...})` runs one
locally and returns a `RunResult` (the same object `conveyor run --json` prints).
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conveyor.executor.run import RunResult

__version__ = "0.1.0"


def run(pipeline_func: Any, arguments: dict[str, Any] | None = None, **options: Any) -> RunResult | None:
    """Run a `@dsl.pipeline` locally. Options are those of `conveyor run` (use_cache, parallelism,
    max_cache_staleness_s, strict_resources, notify, pushgateway, ...).

    A script may call this at its top level: when conveyor itself imports the file (in a task
    worker, a pod, or `conveyor run/compile script.py`) the call ends the import there and nothing
    after it runs. Inside a task process it raises `NestedRunError`: tasks never start runs
    (see `conveyor.runtime.reentry`).
    """
    from conveyor.runtime.reentry import check_may_start_run

    check_may_start_run()
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


_LAZY_MODULES = ("client", "compiler", "components", "dsl", "kubernetes", "v2")


def __getattr__(name: str) -> Any:
    """kfp's top-level names, imported on first use so `import conveyor` stays cheap
    (`import conveyor as kfp; kfp.Client()`, `kfp.dsl`, `kfp.compiler`, ...)."""
    import importlib

    if name == "Client":
        return importlib.import_module("conveyor.client").Client
    if name in _LAZY_MODULES:
        return importlib.import_module(f"conveyor.{name}")
    raise AttributeError(f"module 'conveyor' has no attribute {name!r}")
