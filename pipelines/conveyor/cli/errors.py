"""One readable line per failure, with secrets redacted."""

from __future__ import annotations

from conveyor.notify import redact


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        where = f"{exc.filename}:{exc.lineno}" if exc.filename else "pipeline file"
        text = f"{where}: syntax error: {exc.msg}"
    elif isinstance(exc, FileNotFoundError) and exc.filename:
        text = f"{exc.filename}: no such file"
    elif isinstance(exc, ImportError | NameError | AttributeError):
        text = f"could not load the pipeline: {type(exc).__name__}: {exc}"
    else:
        text = str(exc) or type(exc).__name__
        if type(exc).__module__.split(".")[0] != "conveyor" and not isinstance(exc, ValueError | OSError):
            text = f"{type(exc).__name__}: {text} (run with --debug for the traceback)"
    return redact(text)
