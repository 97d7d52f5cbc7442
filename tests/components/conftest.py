"""Shared recordings of the platform program: each stack runs once per test session.

Why session-scoped: running the whole program under mocks takes ~1-2 s per stack; every test reads
the same immutable recording, so the component suite stays fast on 2 cores.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conveyor.platform.mocks import RecordedProgram, run_program
from conveyor.platform.stack_files import list_stacks

ROOT = Path(__file__).resolve().parents[2]
STACKS = list_stacks(ROOT)
_CACHE: dict[str, RecordedProgram] = {}


def record(stack: str) -> RecordedProgram:
    """The recording for `stack`, computed once. The local stack must not read a real kubeconfig."""
    if stack not in _CACHE:
        old = os.environ.get("KUBECONFIG")
        os.environ["KUBECONFIG"] = str(ROOT / "does-not-exist" / "kubeconfig")
        try:
            _CACHE[stack] = run_program(ROOT, stack)
        finally:
            if old is None:
                os.environ.pop("KUBECONFIG", None)
            else:
                os.environ["KUBECONFIG"] = old
    return _CACHE[stack]


@pytest.fixture(scope="session", params=STACKS)
def stack(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def recorded(stack: str) -> RecordedProgram:
    return record(stack)


@pytest.fixture(scope="session")
def record_stack():
    """The cached recorder itself, for tests that pick stacks by name."""
    return record
