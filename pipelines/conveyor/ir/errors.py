"""Errors shared by every layer.

They live in the IR (the lowest layer) so that the DSL, the one-task runtime
and the executors can all raise and recognise them without importing upward.
"""

from __future__ import annotations


class ConveyorError(Exception):
    """Base of every error conveyor raises on purpose."""


class PipelineDefinitionError(ConveyorError):
    """An authoring error found before anything runs.

    The message always names the pipeline and, where it applies, the task and
    the argument, so a user can fix the file without a stack trace.
    """

    def __init__(
        self,
        message: str,
        *,
        pipeline: str | None = None,
        task: str | None = None,
        argument: str | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.task = task
        self.argument = argument
        where = []
        if pipeline is not None:
            where.append(f"pipeline {pipeline!r}")
        if task is not None:
            where.append(f"task {task!r}")
        if argument is not None:
            where.append(f"argument {argument!r}")
        self.detail = message
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class ConditionEvaluationError(ConveyorError):
    """A condition could not be evaluated (e.g. comparing a str with a float).

    Raised instead of silently treating the branch as false, so a bad
    condition fails the run loudly.
    """


class PermanentError(ConveyorError):
    """Raised by user code to fail a task at once: it is never retried."""


class TransientError(ConveyorError):
    """Raised by user code to mark a failure worth retrying (per the task's retry policy)."""
