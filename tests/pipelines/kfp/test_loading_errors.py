"""A pipeline file that raises while loading (or while its body builds) shows the real error with
FILE:LINE in the user's code, never "no pipeline named X; pipelines in this file: (none)"."""

from __future__ import annotations

import pytest

from conveyor.cli.errors import describe_error
from conveyor.runtime.loader import find_pipeline

BODY_ERRORS = """
@dsl.component
def hello(name: str) -> str:
    return name

@dsl.pipeline
def attr(name: str = "x"):
    hello(name=name).set_something_kfp_has()

@dsl.pipeline
def value(name: str = "x"):
    int("abc")

@dsl.pipeline
def authoring(name: str = "x"):
    hello(nme=name)

@dsl.pipeline
def fine(name: str = "x"):
    hello(name=name)
"""


def _message(path, name):
    with pytest.raises(Exception) as info:  # noqa: PT011 - the point is what any error prints as
        _ = find_pipeline(path, name).pipeline_spec
    return describe_error(info.value)


def _line_of(path, text):
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


@pytest.mark.parametrize(("name", "expected", "marker"), [
    ("attr", "AttributeError: 'PipelineTask' object has no attribute 'set_something_kfp_has'", ".set_something"),
    ("value", "ValueError: invalid literal for int()", 'int("abc")'),
    ("authoring", "argument 'nme': unknown argument", "hello(nme="),
])
def test_body_error_names_file_and_line(home, write_pipeline, name, expected, marker):
    path = write_pipeline(BODY_ERRORS)
    message = _message(path, name)
    assert "pipelines in this file" not in message
    assert expected in message
    assert f"{path}:{_line_of(path, marker)}" in message


def test_other_pipelines_still_load_when_one_body_fails(home, write_pipeline):
    path = write_pipeline(BODY_ERRORS)
    assert find_pipeline(path, "fine").pipeline_spec.name == "fine"


def test_module_level_error_names_file_and_line(home, write_pipeline):
    path = write_pipeline('@dsl.pipeline\ndef p():\n    pass\n\nraise RuntimeError("boom at import")\n')
    with pytest.raises(RuntimeError) as info:
        find_pipeline(path, "p")
    message = describe_error(info.value)
    assert "RuntimeError: boom at import" in message
    assert f"{path}:{_line_of(path, 'raise RuntimeError')}" in message


def test_unknown_name_lists_the_pipelines(home, write_pipeline):
    path = write_pipeline(BODY_ERRORS)
    message = describe_error(_raise(lambda: find_pipeline(path, "nope")))
    assert "pipelines in this file: attr, authoring, fine, value" in message


def _raise(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001
        return exc
    raise AssertionError("expected an error")
