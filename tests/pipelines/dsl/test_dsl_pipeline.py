import threading
from typing import NamedTuple

import pytest
from dsl_components import add, echo, make_data, report, train

from conveyor import dsl
from conveyor.ir import Constant, PipelineDefinitionError, PipelineParam, TaskOutput


@dsl.pipeline(name="basic", description="two steps")
def basic(a: int = 2, label: str = "x"):
    first = add(a=a)
    second = add(a=first.output, b=3).after(first)
    echo(text=label).after(second)
    return second.output


def test_builds_tasks_arguments_and_outputs():
    spec = basic.pipeline_spec
    assert spec.name == "basic" and spec.description == "two steps"
    assert [(i.name, i.type, i.default) for i in spec.inputs] == [("a", "int", 2), ("label", "str", "x")]
    assert list(spec.tasks) == ["add", "add-2", "echo"]
    assert spec.tasks["add"].arguments == {"a": PipelineParam(name="a")}
    assert spec.tasks["add-2"].arguments == {
        "a": TaskOutput(task="add", output="Output"),
        "b": Constant(value=3),
    }
    assert spec.tasks["add-2"].after == ("add",)
    assert spec.outputs == {"Output": TaskOutput(task="add-2", output="Output")}
    assert list(spec.components) == ["add", "echo"]


def test_build_is_lazy_and_cached():
    calls = []

    @dsl.pipeline
    def lazy():
        calls.append(1)
        add(a=1)

    assert calls == []
    assert lazy.pipeline_spec is lazy.pipeline_spec
    assert calls == [1]
    assert lazy.name == "lazy"


def test_task_setters_land_in_task_spec():
    @dsl.pipeline
    def tuned():
        (
            add(a=1)
            .set_cpu_request("500m")
            .set_cpu_limit(2)
            .set_memory_request("512Mi")
            .set_memory_limit("16G")
            .set_accelerator_type("nvidia.com/gpu")
            .set_gpu_limit(1)
            .set_retry(3, backoff_duration="10s", backoff_factor=2, backoff_max_duration="1m")
            .set_caching_options(False)
            .set_display_name("Add it")
            .set_env_variable("MODE", "fast")
            .set_node_selector({"pool": "gpu"})
            .add_toleration(key="gpu", operator="Exists", effect="NoSchedule")
            .set_timeout("90s")
        )

    task = tuned.pipeline_spec.tasks["add"]
    assert task.resources.model_dump() == {
        "cpu_request": 0.5,
        "cpu_limit": 2.0,
        "memory_request": 512 * 2**20,
        "memory_limit": 16 * 10**9,
        "accelerator_type": "nvidia.com/gpu",
        "accelerator_count": 1,
    }
    assert task.retry.model_dump() == {
        "num_retries": 3,
        "backoff_duration_s": 10.0,
        "backoff_factor": 2.0,
        "backoff_max_duration_s": 60.0,
    }
    assert (task.caching, task.display_name, task.env, task.node_selector) == (
        False,
        "Add it",
        {"MODE": "fast"},
        {"pool": "gpu"},
    )
    assert task.tolerations[0].key == "gpu" and task.tolerations[0].effect == "NoSchedule"
    assert task.timeout_s == 90


@pytest.mark.parametrize(
    ("call", "argument", "fragment"),
    [
        (lambda t: t.set_cpu_request("lots"), "cpu_request", "invalid cpu quantity 'lots'"),
        (lambda t: t.set_memory_limit("2GB"), "memory_limit", "invalid memory quantity '2GB'"),
        (lambda t: t.set_retry(-1), "num_retries", ">= 0"),
        (lambda t: t.set_retry(1, backoff_duration="soon"), "backoff_duration", "invalid duration"),
        (lambda t: t.set_timeout(0), "timeout", "greater than zero"),
        (lambda t: t.set_gpu_limit("many"), "limit", "whole number"),
        (lambda t: t.add_toleration(key="k", operator="Sometimes"), "toleration", "invalid toleration"),
        (lambda t: t.set_caching_options("yes"), "enable_caching", "True or False"),
    ],
)
def test_setter_errors_name_pipeline_task_argument(call, argument, fragment):
    @dsl.pipeline(name="bad-setter")
    def bad():
        call(add(a=1))

    with pytest.raises(PipelineDefinitionError) as info:
        _ = bad.pipeline_spec
    err = info.value
    assert (err.pipeline, err.task, err.argument) == ("bad-setter", "add", argument)
    assert fragment in str(err)


def test_output_accessors():
    @dsl.pipeline(name="outs")
    def outs():
        data = make_data(rows=3)
        t = train(data=data.outputs["data"], lr=0.1)
        echo(text=t.outputs["name"])
        with pytest.raises(PipelineDefinitionError, match=r"has 4 outputs.*outputs\[name\]"):
            _ = t.output
        with pytest.raises(PipelineDefinitionError, match="task 'report': has no outputs"):
            _ = report().output
        make_data(rows=1).outputs["x"]

    with pytest.raises(PipelineDefinitionError, match=r"task 'make-data-2': has no output 'x'.*\['data'\]"):
        _ = outs.pipeline_spec


def test_pipeline_outputs_from_namedtuple():
    class Out(NamedTuple):
        total: int
        text: str

    @dsl.pipeline
    def multi() -> Out:
        return Out(add(a=1).output, echo(text="t").output)

    assert multi.pipeline_spec.outputs == {
        "total": TaskOutput(task="add", output="Output"),
        "text": TaskOutput(task="echo", output="Output"),
    }


def test_pipeline_called_directly_points_to_conveyor_run():
    with pytest.raises(PipelineDefinitionError, match=r"conveyor.run\(basic"):
        basic(a=1)


def test_pipeline_input_type_inference_and_errors():
    @dsl.pipeline
    def untyped(n=3, name="x", flag: bool = False, opt: int | None = None):
        add(a=n)

    inputs = {i.name: (i.type, i.default) for i in untyped.inputs}
    assert inputs == {"n": ("int", 3), "name": ("str", "x"), "flag": ("bool", False), "opt": ("int", None)}
    with pytest.raises(PipelineDefinitionError, match=r"pipeline 'bad-default', argument 'n'.*not a int"):
        dsl.pipeline(name="bad-default")(_bad_default)


def _bad_default(n: int = 1.5):
    pass


def test_sub_pipeline_is_inlined_with_prefix():
    @dsl.pipeline
    def inner(x: int, suffix: str = "!") -> int:
        a = add(a=x)
        echo(text=suffix)
        return a.output

    @dsl.pipeline(name="outer")
    def outer(n: int = 1):
        first = inner(x=n)
        second = inner(x=first.output, suffix="?").set_caching_options(False)
        add(a=second.output).after(first)

    spec = outer.pipeline_spec
    assert sorted(spec.tasks) == ["add", "inner-2.add", "inner-2.echo", "inner.add", "inner.echo"]
    assert spec.tasks["inner.add"].arguments["a"] == PipelineParam(name="n")
    assert spec.tasks["inner-2.add"].arguments["a"] == TaskOutput(task="inner.add", output="Output")
    assert spec.tasks["inner-2.echo"].arguments["text"] == Constant(value="?")
    assert spec.tasks["inner.echo"].arguments["text"] == Constant(value="!")
    assert not spec.tasks["inner-2.add"].caching and spec.tasks["inner.add"].caching
    assert set(spec.tasks["add"].after) == {"inner.add", "inner.echo"}
    assert spec.tasks["add"].arguments["a"] == TaskOutput(task="inner-2.add", output="Output")


def test_sub_pipeline_argument_errors():
    @dsl.pipeline
    def inner(x: int) -> int:
        return add(a=x).output

    @dsl.pipeline(name="outer-bad")
    def missing():
        inner()

    @dsl.pipeline(name="outer-bad")
    def wrong_type():
        inner(x="one")

    with pytest.raises(PipelineDefinitionError, match=r"task 'inner', argument 'x': missing required"):
        _ = missing.pipeline_spec
    with pytest.raises(PipelineDefinitionError, match=r"task 'inner', argument 'x': expected int"):
        _ = wrong_type.pipeline_spec


def test_builds_in_threads_do_not_share_state():
    results, errors = {}, []

    def build(i):
        @dsl.pipeline(name=f"p{i}")
        def p():
            for _ in range(20):
                add(a=i)

        try:
            results[i] = p.pipeline_spec
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=build, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i, spec in results.items():
        assert len(spec.tasks) == 20
        assert {t.arguments["a"].value for t in spec.tasks.values()} == {i}


@pytest.mark.parametrize("source", ["param", "output"])
def test_env_variable_from_a_run_time_value_is_refused_not_stored_as_text(source):
    @dsl.pipeline(name="env-from-param")
    def env_from(m: str = "fast"):
        first = echo(text=m)
        add(a=1).set_env_variable("MODE", m if source == "param" else first.output)

    with pytest.raises(PipelineDefinitionError) as info:
        _ = env_from.pipeline_spec
    err = info.value
    assert (err.pipeline, err.task, err.argument) == ("env-from-param", "add", "env MODE")
    assert "only has a value at run time" in str(err) and "task input" in str(err)
