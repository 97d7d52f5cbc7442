"""packages_to_install: a warning and the task runs here, or --isolate builds a reusable uv venv."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from conveyor.executor.isolation import unmet_requirements
from conveyor.ir.errors import PipelineDefinitionError

PIPE = """
@dsl.component(packages_to_install=["six==1.16.0"])
def which_six() -> str:
    import six
    return six.__version__

@dsl.pipeline(name="iso")
def iso() -> str:
    return which_six().output
"""


def test_unmet_requirements_names_what_is_installed():
    import pytest as installed

    assert unmet_requirements([f"pytest=={installed.__version__}"]) == []
    assert unmet_requirements(["pytest<1"]) == [f"pytest<1 (installed: {installed.__version__})"]
    assert unmet_requirements(["surely-not-a-package-xyz"]) == ["surely-not-a-package-xyz (not installed)"]
    with pytest.raises(PipelineDefinitionError, match="not a valid requirement"):
        unmet_requirements(["six=="])


def test_mismatch_warns_and_runs_here(write_pipeline, run_file):
    import six

    if six.__version__ == "1.16.0":
        pytest.skip("this environment already has six 1.16.0")
    result = run_file(write_pipeline(PIPE), use_cache=False)
    assert result.status == "succeeded"
    assert result.outputs["Output"] == six.__version__
    assert any("six==1.16.0 (installed:" in w and "--isolate" in w for w in result.warnings)


def _has_uv() -> bool:
    return bool(shutil.which("uv") or (Path(sys.prefix) / "bin" / "uv").exists())


@pytest.mark.skipif(not _has_uv(), reason="uv is not installed")
def test_isolate_builds_a_venv_once_and_reuses_it(write_pipeline, run_file, home):
    path = write_pipeline(PIPE)
    first = run_file(path, use_cache=False, isolate=True)
    assert first.status == "succeeded", first.error
    assert first.outputs["Output"] == "1.16.0"
    venvs = list((home / "venvs").iterdir())
    assert len(venvs) == 1 and (venvs[0] / ".ready").exists()
    stamp = (venvs[0] / ".ready").stat().st_mtime
    second = run_file(path, use_cache=False, isolate=True)
    assert second.outputs["Output"] == "1.16.0"
    assert (venvs[0] / ".ready").stat().st_mtime == stamp  # reused, not rebuilt
