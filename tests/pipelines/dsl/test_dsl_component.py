import pytest
from dsl_components import add, by_path, make_data, merge, report, train

from conveyor import dsl
from conveyor.ir import PipelineDefinitionError


def by_name(items):
    return {i.name: i for i in items}


def test_plain_params_defaults_and_single_return():
    spec = add.component_spec
    inputs = by_name(spec.inputs)
    assert (inputs["a"].type, inputs["a"].required) == ("int", True)
    assert (inputs["b"].default, inputs["b"].has_default, inputs["b"].required) == (1, True, False)
    assert [(o.name, o.type, o.style) for o in spec.outputs] == [("Output", "int", "return")]


def test_artifacts_and_namedtuple_outputs():
    spec = train.component_spec
    assert by_name(spec.inputs)["data"].model_dump(include={"kind", "type", "style"}) == {
        "kind": "artifact",
        "type": "Dataset",
        "style": "artifact",
    }
    outs = {o.name: (o.kind, o.type, o.style) for o in spec.outputs}
    assert outs == {
        "model": ("artifact", "Model", "artifact"),
        "metrics": ("artifact", "Metrics", "artifact"),
        "accuracy": ("parameter", "float", "return_field"),
        "name": ("parameter", "str", "return_field"),
    }
    assert not make_data.component_spec.output("Output")


def test_paths_optional_final_status_and_lists():
    spec = by_path.component_spec
    assert by_name(spec.inputs)["src"].style == "path" and by_name(spec.inputs)["src"].kind == "artifact"
    assert by_name(spec.inputs)["note"].optional
    assert spec.output("count").model_dump(include={"kind", "type", "style"}) == {
        "kind": "parameter",
        "type": "int",
        "style": "path",
    }
    assert by_name(report.component_spec.inputs)["status"].style == "final_status"
    assert by_name(merge.component_spec.inputs)["models"].is_list


def test_decorator_options_land_in_spec():
    spec = train.component_spec
    assert spec.base_image == "python:3.11"
    assert spec.packages_to_install == ("scikit-learn",)
    assert spec.cache_ttl_seconds == 600 and spec.cache_version == "v2"
    assert add.component_spec.cache_ttl_seconds is None


def test_python_func_source_and_module():
    assert add.python_func(2, 3) == 7
    impl = add.component_spec.implementation
    assert impl.source.startswith("def add(") and "@dsl" not in impl.source
    assert impl.function == "add" and impl.module == "dsl_components"
    assert impl.module_file.endswith("dsl_components.py")


def test_called_outside_pipeline_is_helpful():
    with pytest.raises(
        dsl.ComponentCalledOutsidePipelineError, match=r"outside a @dsl.pipeline.*python_func"
    ):
        add(a=1)
    with pytest.raises(RuntimeError):
        add(a=1)


def _decorate(func, **kw):
    return dsl.component(**kw)(func) if kw else dsl.component(func)


def test_decoration_errors_name_component_and_argument():
    def no_hint(x):
        return x

    def bad_default(x: int = "3"):
        pass

    def output_param(x: dsl.Output[int]):
        pass

    def returns_artifacts() -> list[dsl.Model]:  # a plain `-> dsl.Model` is kfp's pythonic artifact
        pass

    cases = [
        (no_hint, "argument 'x'", "no type annotation"),
        (bad_default, "argument 'x'", "default '3' is not a int"),
        (output_param, "argument 'x'", "OutputPath"),
        (returns_artifacts, "argument 'return'", "dsl.Collected"),
    ]
    for func, where, what in cases:
        with pytest.raises(PipelineDefinitionError) as info:
            _decorate(func)
        assert f"component {func.__name__!r}" in str(info.value) and where in str(info.value)
        assert what in str(info.value)


def test_cache_ttl_must_be_non_negative():
    def f(x: int):
        pass

    with pytest.raises(PipelineDefinitionError, match="cache_output_for_seconds"):
        _decorate(f, cache_output_for_seconds=-1)


def test_kfp_only_options_are_accepted():
    def f(x: int):
        pass

    comp = _decorate(f, target_image="x", install_kfp_package=False, pip_index_urls=["u"], use_venv=True)
    assert comp.component_spec.name == "f"
