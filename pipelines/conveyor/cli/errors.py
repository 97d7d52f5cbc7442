"""One readable line per failure, with secrets redacted."""

from __future__ import annotations

import sysconfig
import traceback
from pathlib import Path

from conveyor.notify import redact

_NOT_USER_CODE = (str(Path(__file__).resolve().parents[1]), sysconfig.get_paths()["stdlib"],
                  sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"])


def _user_location(exc: BaseException) -> str | None:
    """FILE:LINE of the deepest traceback frame in the user's own code (not conveyor, the standard
    library or an installed package): where a pipeline file failed while it was being loaded."""
    where = None
    for frame in traceback.extract_tb(exc.__traceback__):
        name = frame.filename
        if name.startswith("<") or name.startswith(_NOT_USER_CODE):
            continue
        where = f"{name}:{frame.lineno}"
    return where


def _is_conveyor_error(exc: BaseException) -> bool:
    return type(exc).__module__.split(".")[0] == "conveyor"


def describe_error(exc: BaseException) -> str:
    import typer

    where = _user_location(exc)
    at = f" (at {where})" if where else ""
    if isinstance(exc, SyntaxError):
        where = f"{exc.filename}:{exc.lineno}" if exc.filename else "pipeline file"
        text = f"{where}: syntax error: {exc.msg}"
    elif isinstance(exc, typer.TyperException) and hasattr(exc, "format_message"):  # BadParameter in a command
        text = exc.format_message()
    elif isinstance(exc, FileNotFoundError) and exc.filename:
        text = f"{exc.filename}: no such file"
    elif isinstance(exc, ImportError | NameError | AttributeError) or (where and not _is_conveyor_error(exc)):
        text = f"could not load the pipeline: {type(exc).__name__}: {exc}{at}"
    elif where:  # an authoring error conveyor raised while the user's pipeline body ran
        text = f"{exc}{at}"
    else:
        text = str(exc) or type(exc).__name__
        if not _is_conveyor_error(exc) and not isinstance(exc, ValueError | OSError):
            text = f"{type(exc).__name__}: {text}{at} (run with --debug for the traceback)"
    return redact(text)
