"""Pipelines the pod tests compile and run; a module file, as a user's project would have."""

from __future__ import annotations

from conveyor import dsl
from conveyor.dsl import Artifact, Dataset, Input, Metrics, Model, Output


@dsl.component
def make_data(rows: int, data: Output[Dataset]):
    with open(data.path, "w") as fh:
        fh.write("\n".join(str(i) for i in range(rows)))
    data.metadata["rows"] = rows


@dsl.component
def train(data: Input[Dataset], lr: float, model: Output[Model], metrics: Output[Metrics]) -> float:
    with open(data.path) as fh:
        n = len(fh.read().splitlines())
    with open(model.path, "w") as fh:
        fh.write(f"lr={lr} n={n}")
    metrics.log_metric("accuracy", 0.5 + lr)
    return 0.5 + lr


@dsl.component
def report(acc: float, model: Input[Model]) -> str:
    with open(model.path) as fh:
        return f"{acc:.2f}:{fh.read()}"


@dsl.pipeline(name="pod-train")
def train_pipeline(rows: int = 10, lr: float = 0.25):
    data = make_data(rows=rows)
    trained = train(data=data.outputs["data"], lr=lr)
    report(acc=trained.outputs["Output"], model=trained.outputs["model"])


@dsl.component
def sleepy(seconds: float) -> str:
    import time

    print(f"sleeping {seconds} s")
    time.sleep(seconds)
    return "done"


@dsl.pipeline(name="pod-sleep")
def sleep_pipeline(seconds: float = 120.0):
    sleepy(seconds=seconds)


@dsl.component
def big_blob(mib: int, blob: Output[Artifact]):
    block = bytes(range(256)) * 4096
    with open(blob.path, "wb") as fh:
        for i in range(mib):
            fh.write(i.to_bytes(8, "big") + block[8:])


@dsl.pipeline(name="pod-big")
def big_pipeline(mib: int = 65):
    big_blob(mib=mib)


@dsl.component
def flaky(marker: str) -> int:
    import os

    if not os.path.exists(marker):
        open(marker, "w").close()
        raise OSError("first attempt fails (transient)")
    return 7


@dsl.component
def broken(x: int) -> int:
    raise dsl.PermanentError(f"bad input {x}")


@dsl.component
def announce(status: dsl.PipelineTaskFinalStatus) -> str:
    return f"{status.state}:{status.error_code}"


@dsl.pipeline(name="pod-retry")
def retry_pipeline(marker: str):
    flaky(marker=marker).set_retry(2)


@dsl.pipeline(name="pod-exit")
def exit_pipeline(x: int = 1):
    note = announce()
    with dsl.ExitHandler(note):
        broken(x=x).set_retry(3)
