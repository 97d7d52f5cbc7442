import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _not_a_task_process(monkeypatch):
    """A test that runs a task in this process marks it as a task process (conveyor.run then refuses);
    every test here starts from an unmarked process."""
    monkeypatch.delenv("CONVEYOR_TASK_PROCESS", raising=False)


from tests.pipelines.compiler.conftest import argo_schema  # noqa: E402,F401 - the Argo JSON schema validator
