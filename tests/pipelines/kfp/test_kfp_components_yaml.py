"""`conveyor.components.load_component_from_*`: kfp-compiled YAML (Python and container executors,
whole pipelines) and v1 container specs load and run like under kfp; malformed specs name the key."""

from __future__ import annotations

import functools
import http.server
import threading
import warnings

import pytest
import yaml
from kfp_swap import FIXTURES, load, load_kfp

import conveyor
from conveyor import components
from conveyor.components import ComponentSpecError

kfp = pytest.importorskip("kfp")


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    from kfp import compiler

    out = tmp_path_factory.mktemp("kfp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        py = load(FIXTURES / "python_components.py", "kfp_python_components")
        compiler.Compiler().compile(py.rows_pipeline, str(out / "rows.yaml"))
        compiler.Compiler().compile(py.make_rows, str(out / "make_rows.yaml"))
        cc = load_kfp(FIXTURES / "container_components.py", out)
        compiler.Compiler().compile(cc.container_pipeline, str(out / "containers.yaml"))
    return out, py


def test_compiled_python_pipeline_runs_like_kfp_local(compiled, tmp_path, monkeypatch):
    out, py = compiled
    from kfp import local

    monkeypatch.chdir(tmp_path)
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "kfp-root"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = py.rows_pipeline(n=5, scale=3.0)
    loaded = components.load_component_from_file(out / "rows.yaml")
    ours = conveyor.run(loaded, {"n": 5, "scale": 3.0}, use_cache=False)
    assert ours.status == "succeeded", ours.error
    assert ours.outputs["Output"] == theirs.output == 90.0


def test_compiled_component_loads_as_that_component(compiled, tmp_path, monkeypatch):
    out, _ = compiled
    monkeypatch.chdir(tmp_path)
    comp = components.load_component_from_file(out / "make_rows.yaml")
    assert comp.name == "make_rows"
    result = conveyor.run(comp, {"n": 3}, use_cache=False)
    assert result.outputs["Output"] == "made 3" and result.outputs["rows"]["size"] == len("0\n1\n4")


def test_loaded_component_used_inside_a_pipeline(compiled, tmp_path, monkeypatch):
    out, _ = compiled
    monkeypatch.chdir(tmp_path)
    from conveyor import dsl

    make_rows = components.load_component_from_file(out / "make_rows.yaml")
    rows = components.load_component_from_file(out / "rows.yaml")

    @dsl.pipeline
    def outer(n: int = 2):
        first = make_rows(n=n)
        rows(n=n, scale=1.0).after(first)

    result = conveyor.run(outer, {}, use_cache=False)
    assert result.status == "succeeded", result.error
    assert sorted(t.name for t in result.tasks) == ["make-rows", "rows-pipeline.make-rows", "rows-pipeline.total"]


def test_compiled_container_pipeline_runs_and_compiles_for_argo(compiled, tmp_path, monkeypatch):
    out, _ = compiled
    monkeypatch.chdir(tmp_path)
    pipeline = components.load_component_from_file(out / "containers.yaml")
    assert conveyor.run(pipeline, {"name": "di"}, use_cache=False).status == "succeeded"
    from conveyor import compiler

    compiler.Compiler().compile(pipeline, str(tmp_path / "wf.yaml"))
    manifest = yaml.safe_load((tmp_path / "wf.yaml").read_text())
    assert {c["container"]["image"] for c in manifest["spec"]["templates"] if "container" in c} == {"alpine:3.19"}


V1 = """
name: Count words
inputs:
- {name: Text, type: String}
- {name: Label, type: String, optional: true}
outputs:
- {name: Count, type: Integer}
- {name: Report, type: Dataset}
implementation:
  container:
    image: alpine:3.19
    command: [sh, -c, 'echo "$0" | wc -w | tr -d " " > "$1"; echo "$2" > "$3"']
    args:
    - {inputValue: Text}
    - {outputPath: Count}
    - if: {cond: {isPresent: Label}, then: [{concat: [label=, {inputValue: Label}]}], else: [no-label]}
    - {outputPath: Report}
"""


def test_v1_container_spec(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    comp = components.load_component_from_text(V1)
    assert [i.name for i in comp.component_spec.inputs] == ["text", "label"]
    result = conveyor.run(comp, {"text": "one two three"}, use_cache=False)
    assert result.status == "succeeded", result.error
    assert result.outputs["count"] == 3


def test_v1_matches_kfp_loading_the_same_text():
    theirs = kfp.components.load_component_from_text(V1)
    ours = components.load_component_from_text(V1)
    assert set(theirs.component_spec.inputs) == {i.name for i in ours.component_spec.inputs}
    assert set(theirs.component_spec.outputs) == {o.name for o in ours.component_spec.outputs}


V1_TYPES = """
name: Typed
inputs:
- {name: a, type: STRING}
- {name: b, type: integer}
- {name: c, type: 'typing.List[int]'}
- {name: d, type: {GCSPath: {data_type: CSV}}}
- {name: e, type: Model}
- {name: f, type: JsonObject}
implementation:
  container:
    image: alpine:3.19
    command: [echo, {inputValue: a}, {inputValue: b}, {inputValue: c}, {inputPath: d}, {inputPath: e},
              {inputValue: f}]
"""


def test_v1_types_are_parameters_or_artifacts_as_kfp_decides():
    """kfp's rule: the short type name, lower-cased, or a mapping type's key; real specs write
    `STRING`, `typing.List[int]`, `{GCSPath: {...}}` (these crashed or became artifacts before)."""
    theirs = kfp.components.load_component_from_text(V1_TYPES).component_spec.inputs
    ours = {i.name: i for i in components.load_component_from_text(V1_TYPES).component_spec.inputs}
    from kfp.dsl.types import type_utils

    kinds = {n: "parameter" if type_utils.is_parameter_type(i.type) else "artifact" for n, i in theirs.items()}
    assert kinds == {n: i.kind for n, i in ours.items()}
    assert [ours[n].type for n in "abcf"] == ["str", "int", "list", "dict"]


EXIT_V1 = """
name: Exit Op
inputs:
- {name: status, type: PipelineTaskFinalStatus}
implementation:
  container:
    image: alpine:3.19
    command: [sh, -c, 'printf "%s" "$0" > "$1"', {inputValue: status}, SEEN]
"""


def test_v1_final_status_input_gets_kfp_s_status_json(tmp_path, monkeypatch):
    import json

    from conveyor import dsl

    monkeypatch.chdir(tmp_path)
    exit_op = components.load_component_from_text(EXIT_V1.replace("SEEN", str(tmp_path / "seen.json")))
    fail = components.load_component_from_text(
        "name: Fail\nimplementation:\n  container:\n    image: alpine:3.19\n    command: [sh, -c, 'exit 3']\n")

    @dsl.pipeline(name="exit-v1")
    def exit_v1():
        final = exit_op()
        with dsl.ExitHandler(final):
            fail()

    result = conveyor.run(exit_v1, {}, use_cache=False)
    assert result.status == "failed"
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert set(seen) == {"state", "pipeline_job_resource_name", "pipeline_task_name", "error"}  # kfp's local shape
    assert seen["state"] == "FAILED" and seen["error"]["message"]


def test_load_from_url_file_and_http(tmp_path):
    (tmp_path / "c.yaml").write_text(V1)
    assert components.load_component_from_url((tmp_path / "c.yaml").as_uri()).name == "count_words"
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/c.yaml"
        assert components.load_component_from_url(url).name == "count_words"
        with pytest.raises(ComponentSpecError, match="404"):
            components.load_component_from_url(url.replace("c.yaml", "missing.yaml"))
    finally:
        server.shutdown()
    with pytest.raises(ComponentSpecError, match="scheme must be file, http or https"):
        components.load_component_from_url("ftp://x/c.yaml")


@pytest.mark.parametrize(("text", "message"), [
    ("name: x\nimplementation: {container: {command: [echo]}}", r"`implementation.container.image` is required"),
    ("implementation: {container: {image: a}}", r"`name` is required"),
    ("name: x\ninputs: [{type: String}]\nimplementation: {container: {image: a}}", r"`inputs\[0\]` needs a `name`"),
    ("name: x\nimplementation: {container: {image: a, args: [{inputValue: nope}]}}",
     r"implementation.container.args: \{inputValue: 'nope'\} names no declared input"),
    ("name: x\nimplementation: {container: {image: a, args: [{inputFile: a}]}}", r"unknown placeholder 'inputFile'"),
    ("name: x\nimplementation: {container: {image: a, args: ['{{$.inputs.parameters[''q'']}}']}}",
     r"names input 'q'"),
    ("components: {}\npipelineInfo: {name: p}", r"pipeline spec: `root` is required"),
    ("just: [a, list", "not valid YAML"),
    ("kind: Workflow", r"neither `implementation` \(v1\) nor `deploymentSpec`"),
])
def test_malformed_specs_name_the_key(text, message):
    with pytest.raises(ComponentSpecError if "names input" not in message else conveyor.dsl.PipelineDefinitionError,
                       match=message):
        components.load_component_from_text(text)


def test_what_kfp_never_writes_in_a_loaded_dag_is_refused(compiled):
    """Control flow loads (test_kfp_loaded_control_flow); an artifact iterator is refused, naming the key."""
    out, _ = compiled
    data = yaml.safe_load((out / "rows.yaml").read_text())
    data["root"]["dag"]["tasks"]["total"]["artifactIterator"] = {"items": {"inputArtifact": "x"}}
    with pytest.raises(ComponentSpecError, match=r"root.dag.tasks.total.artifactIterator: looping over artifacts"):
        _ = components.load_component_from_text(yaml.safe_dump(data)).pipeline_spec
