"""One small pipeline per DSL feature, compiled by the golden tests (the YAML doubles as docs)."""

from __future__ import annotations

from typing import NamedTuple

from conveyor import dsl
from conveyor.dsl import Dataset, Input, Model, Output


@dsl.component
def make_data(rows: int, out: Output[Dataset]):
    out.metadata["rows"] = rows


@dsl.component
def train(data: Input[Dataset], lr: float, model: Output[Model]) -> float:
    return 0.9


@dsl.component
def add(a: int, b: int = 1) -> int:
    return a + b


@dsl.component
def shout(text: str) -> str:
    return text.upper()


@dsl.component
def list_segments(n: int) -> list:
    return [f"seg-{i}" for i in range(n)]


@dsl.component
def pick_best(scores: list) -> float:
    return max(scores)


@dsl.component
def stats(x: int) -> NamedTuple("Stats", [("total", int), ("label", str)]):
    from collections import namedtuple

    return namedtuple("Stats", ["total", "label"])(x, "ok")


@dsl.component
def report(status: dsl.PipelineTaskFinalStatus, channel: str):
    print(status.state, channel)


@dsl.pipeline(name="basic-dag")
def basic_dag(rows: int = 100):
    data = make_data(rows=rows)
    model = train(data=data.outputs["out"], lr=0.1)
    s = stats(x=rows)
    shout(text=s.outputs["label"]).after(model)


@dsl.pipeline(name="parallel-for")
def parallel_for(lrs: list = [0.1, 0.01]):  # noqa: B006 - kfp style default
    data = make_data(rows=10)
    with dsl.ParallelFor(["a", "b", "c"], parallelism=2) as name:
        shout(text=name)
    with dsl.ParallelFor(lrs) as lr:
        t = train(data=data.outputs["out"], lr=lr)
    pick_best(scores=dsl.Collected(t.outputs["Output"]))


@dsl.pipeline(name="dynamic-fanout")
def dynamic_fanout(n: int = 3):
    segments = list_segments(n=n)
    with dsl.ParallelFor(segments.output, parallelism=4) as seg:
        shout(text=seg)


@dsl.pipeline(name="nested-loops")
def nested_loops():
    with dsl.ParallelFor([{"a": 1, "b": 2}, {"a": 3, "b": 4}]) as outer:  # noqa: SIM117 - kfp nesting
        with dsl.ParallelFor([10, 20, 30]) as inner:
            s = add(a=outer.a, b=inner)
    pick_best(scores=dsl.Collected(s.output))


@dsl.pipeline(name="conditions")
def conditions(threshold: float = 0.5, mode: str = "fast"):
    data = make_data(rows=5)
    acc = train(data=data.outputs["out"], lr=0.1)
    with dsl.If(acc.outputs["Output"] > threshold, "good"):
        shout(text="deploy")
    with dsl.Elif(acc.outputs["Output"] > 0.2):
        shout(text="retrain")
    with dsl.Else():
        shout(text="alert")
    with dsl.If(mode == "fast"):
        add(a=1)


@dsl.pipeline(name="with-exit-handler")
def exit_handler(channel: str = "#ml"):
    notify = report(channel=channel)
    with dsl.ExitHandler(notify):
        data = make_data(rows=1)
        train(data=data.outputs["out"], lr=0.5)


@dsl.pipeline(name="retries-timeouts")
def retries_timeouts():
    a = add(a=1).set_retry(
        num_retries=3, backoff_duration="10s", backoff_factor=2, backoff_max_duration="300s"
    )
    a.set_timeout(600).set_caching_options(False)
    add(a=a.output).set_retry(2)


@dsl.pipeline(name="gpu-resources")
def gpu_resources():
    data = make_data(rows=1).set_cpu_request("500m").set_memory_request("1Gi").set_memory_limit("2Gi")
    t = train(data=data.outputs["out"], lr=0.1)
    t.set_cpu_limit("4").set_accelerator_type("NVIDIA_A10G").set_accelerator_limit(1)
    t2 = train(data=data.outputs["out"], lr=0.2)
    t2.set_gpu_limit(1).set_node_selector({"conveyor.dev/pool": "gpu-a10g-ondemand"})


@dsl.pipeline(name="env-and-scheduling")
def env_and_scheduling():
    t = shout(text="hi")
    t.set_env_variable("LOG_LEVEL", "debug").set_env_variable("API_TOKEN", "secret:ml-api/token")
    t.set_node_selector({"kubernetes.io/arch": "amd64"})
    t.add_toleration(key="dedicated", operator="Equal", value="ml", effect="NoSchedule")


@dsl.component(base_image="python:3.12-slim", packages_to_install=["scikit-learn==1.5.0", "pandas>=2"])
def fit_sklearn(rows: int) -> float:
    return 1.0


@dsl.pipeline(name="packages")
def packages():
    fit_sklearn(rows=10)


@dsl.pipeline(name="inner")
def inner(x: int) -> int:
    return add(a=x, b=2).output


@dsl.pipeline(name="subpipeline")
def subpipeline():
    first = add(a=1)
    nested = inner(x=first.output)
    add(a=nested.output)


FEATURES = {
    "basic_dag": basic_dag,
    "parallel_for": parallel_for,
    "dynamic_fanout": dynamic_fanout,
    "nested_loops": nested_loops,
    "conditions": conditions,
    "exit_handler": exit_handler,
    "retries_timeouts": retries_timeouts,
    "gpu_resources": gpu_resources,
    "env_and_scheduling": env_and_scheduling,
    "packages": packages,
    "subpipeline": subpipeline,
}
