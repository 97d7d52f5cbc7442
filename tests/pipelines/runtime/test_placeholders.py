"""runtime.placeholders: the one resolver local tasks and pods share."""

import json

import pytest

from conveyor.ir.artifacts import Dataset
from conveyor.ir.container import Concat, IfPresent
from conveyor.ir.errors import PermanentError
from conveyor.runtime.placeholders import PlaceholderContext, resolve_command


def _ctx(**inputs):
    data = Dataset(name="d", uri="s3://b/d", path="/w/in/d", metadata={"rows": 3})
    return PlaceholderContext(component="c", inputs={"data": data, **inputs}, outputs={"out": "/w/out/out"},
                              job_name="run-1", job_id="run-1", task_name="t", task_id="t-0", workspace=None)


def test_values_paths_uris_metadata_and_structures():
    parts = ["--n={{$.inputs.parameters['n']}}", "{{$.inputs.artifacts['data'].path}}",
             "{{$.inputs.artifacts['data'].uri}}", "{{$.inputs.artifacts['data'].metadata['rows']}}",
             "{{$.inputs.artifacts['data'].metadata}}", "{{$.outputs.parameters['out'].output_file}}",
             Concat(items=("{{$.pipeline_job_name}}/", "{{$.pipeline_task_name}}/{{$.pipeline_task_uuid}}")),
             IfPresent(input_name="opt", then=("--opt", "{{$.inputs.parameters['opt']}}"), otherwise=("--no-opt",)),
             IfPresent(input_name="n", then=(Concat(items=("x", "{{$.inputs.parameters['n']}}")),))]
    argv = resolve_command(parts, _ctx(n=[1, 2], opt=None))
    assert argv == ["--n=[1, 2]", "/w/in/d", "s3://b/d", "3", json.dumps({"rows": 3}), "/w/out/out",
                    "run-1/t/t-0", "--no-opt", "x[1, 2]"]
    assert resolve_command(parts[7:8], _ctx(opt="yes")) == ["--opt", "yes"]


def test_missing_input_and_unconfigured_workspace_are_clear():
    with pytest.raises(PermanentError, match=r"'n' was not provided; wrap it in IfPresentPlaceholder"):
        resolve_command(["{{$.inputs.parameters['n']}}"], _ctx())
    with pytest.raises(PermanentError, match=r"no workspace is configured"):
        resolve_command(["{{$.workspace_path}}"], _ctx())
