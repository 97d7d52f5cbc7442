"""Pipeline files the suite runs. They are real files because task processes import them, as users' do.

Every component drops a marker `<task id>[:label]@<pid>@<ns>` in MARKS when it starts, so a test can count
how often each task instance really computed — the ground truth for "no completed task recomputed"
and "no duplicate computation of a cache key".
"""

from __future__ import annotations

import textwrap
from pathlib import Path

HEADER = '''
import os, time
from conveyor import dsl
from conveyor.dsl import Dataset, Input, Metrics, Model, Output

MARKS = {marks!r}


def mark(label=""):
    tid = os.environ.get("CONVEYOR_TASK_ID", "unknown") + (f":{{label}}" if label else "")
    open(os.path.join(MARKS, f"{{tid}}@{{os.getpid()}}@{{time.time_ns()}}"), "w").close()
'''

# 20 tasks: gen, 10 ParallelFor shards, merge, train (a directory artifact), evaluate (metrics)
# and a chain of 6 publish steps, the last one long enough that a kill always lands mid-run.
CRASH = '''
@dsl.component
def gen(n: int, seconds: float, raw: Output[Dataset]) -> int:
    mark()
    time.sleep(seconds)
    with open(raw.path, "w") as fh:
        fh.write("\\n".join(str(i) for i in range(n)))
    return n


@dsl.component
def shard(raw: Input[Dataset], i: int, seconds: float, part: Output[Dataset]) -> int:
    mark()
    time.sleep(seconds)
    values = [int(x) * (i + 1) for x in open(raw.path).read().split()]
    with open(part.path, "w") as fh:
        fh.write(" ".join(map(str, values)))
    return sum(values)


@dsl.component
def merge(parts: Input[list[Dataset]], seconds: float, merged: Output[Dataset]) -> int:
    mark()
    time.sleep(seconds)
    total = [open(p.path).read() for p in parts]
    with open(merged.path, "w") as fh:
        fh.write("\\n".join(total))
    return sum(int(x) for line in total for x in line.split())


@dsl.component
def train(merged: Input[Dataset], seconds: float, model: Output[Model]) -> float:
    mark()
    time.sleep(seconds)
    os.makedirs(model.path, exist_ok=True)
    values = [int(x) for x in open(merged.path).read().split()]
    with open(os.path.join(model.path, "weights.txt"), "w") as fh:
        fh.write(str(sum(values)))
    with open(os.path.join(model.path, "config.json"), "w") as fh:
        fh.write('{"kind": "sum"}')
    return float(len(values))


@dsl.component
def evaluate(model: Input[Model], seconds: float, scores: Output[Metrics]) -> float:
    mark()
    time.sleep(seconds)
    weight = float(open(os.path.join(model.path, "weights.txt")).read())
    scores.log_metric("weight", weight)
    return weight


@dsl.component
def publish(step: int, upstream: float, seconds: float, note: Output[Dataset]) -> float:
    mark()
    time.sleep(seconds)
    with open(note.path, "w") as fh:
        fh.write(f"step {step}: {upstream}")
    return upstream + step


@dsl.pipeline(name="crashable")
def crashable(n: int = 40, seconds: float = 0.12, last_seconds: float = 1.0) -> float:
    g = gen(n=n, seconds=seconds).set_retry(2, backoff_duration="0.05s")
    with dsl.ParallelFor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], parallelism=3) as i:
        s = shard(raw=g.outputs["raw"], i=i, seconds=seconds).set_retry(2, backoff_duration="0.05s")
    m = merge(parts=dsl.Collected(s.outputs["part"]), seconds=seconds).set_retry(2, backoff_duration="0.05s")
    t = train(merged=m.outputs["merged"], seconds=seconds).set_retry(2, backoff_duration="0.05s")
    e = evaluate(model=t.outputs["model"], seconds=seconds).set_retry(2, backoff_duration="0.05s")
    value = e.outputs["Output"]
    for step in range(1, 7):
        wait = last_seconds if step == 6 else seconds
        value = publish(step=step, upstream=value, seconds=wait).set_retry(
            2, backoff_duration="0.05s").outputs["Output"]
    return value
'''

CRASH_TASKS = 20
# sum over shards of (i+1) * sum(range(40)) = 55 * 780, then + 1 + 2 + ... + 6
CRASH_OUTPUT = 55 * 780 + 21.0


def write(directory: Path, name: str, body: str, marks: Path) -> Path:
    marks.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.py"
    path.write_text(HEADER.format(marks=str(marks)) + textwrap.dedent(body))
    return path

# One task that fails in a chosen way for its first `fail_times` attempts, then succeeds.
FLAKY = '''
@dsl.component
def flaky(mode: str, fail_times: int, counter: str) -> int:
    import signal
    mark()
    n = int(open(counter).read()) if os.path.exists(counter) else 0
    open(counter, "w").write(str(n + 1))
    if n < fail_times:
        if mode == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if mode == "term":
            os.kill(os.getpid(), signal.SIGTERM)
        if mode == "hang":
            time.sleep(60)
        if mode == "transient":
            raise dsl.TransientError(f"feature store unavailable (try {n})")
        if mode == "permanent":
            raise dsl.PermanentError("label column missing from the training table")
        if mode == "validation":
            rows = [{"age": 31}, {"age": -4}]
            bad = [r for r in rows if r["age"] < 0]
            raise ValueError(f"data validation failed: {len(bad)} rows with negative age")
        if mode == "wrong_type":
            return "forty-two"
        if mode == "slow":
            time.sleep(60)
    return n


@dsl.component
def after(x: int) -> int:
    mark()
    return x + 1


# The timeout leaves room for a healthy attempt on a loaded 2-vCPU CI machine and stays far below the
# 60 s hang. (At 1.5 s a first attempt was once classified "timeout": the clock started before the
# fork server had; it now starts with the task's process, tests/pipelines/executor/test_retries.py.)
@dsl.pipeline(name="flaky")
def flaky_pipeline(mode: str, fail_times: int = 1, counter: str = "counter") -> int:
    f = flaky(mode=mode, fail_times=fail_times, counter=counter).set_retry(
        3, backoff_duration="0.2s", backoff_factor=2.0).set_timeout(5)
    return after(x=f.output).output
'''

# A fan-out of artifact producers and a fan-in: enough metadata and artifact traffic that a
# service fault lands in the middle of it.
SERVICES = '''
RETRIES = 3


@dsl.component
def produce(i: int, seconds: float, out: Output[Dataset]) -> int:
    mark()
    time.sleep(seconds)
    with open(out.path, "w") as fh:
        fh.write(f"item {i}\\n" * (i + 1))
    return i * i


@dsl.component
def gather(parts: Input[list[Dataset]], values: list) -> int:
    mark()
    return sum(values) + sum(len(open(p.path).read().splitlines()) for p in parts)


@dsl.pipeline(name="services")
def services(items: list = [0, 1, 2, 3, 4, 5], seconds: float = 0.3) -> int:
    with dsl.ParallelFor(items, parallelism=2) as i:
        p = produce(i=i, seconds=seconds).set_retry(RETRIES, backoff_duration="0.2s")
    return gather(parts=dsl.Collected(p.outputs["out"]), values=dsl.Collected(p.outputs["Output"])).output
'''
SERVICES_OUTPUT = sum(i * i for i in range(6)) + sum(i + 1 for i in range(6))  # 55 + 21

# Many small runs against one store: `prep` has one cache key for every run, `group_stat` one per
# group (shared by several runs), `unique` one per run. Markers carry the key's inputs as a label.
SMALL = '''
@dsl.component
def prep(seed: int, data: Output[Dataset]) -> int:
    mark(f"seed{seed}")
    time.sleep(0.3)
    with open(data.path, "w") as fh:
        fh.write(" ".join(str(seed * k) for k in range(100)))
    return seed


@dsl.component
def group_stat(group: int, data: Input[Dataset]) -> int:
    mark(f"group{group}")
    time.sleep(0.1)
    return group + sum(int(x) for x in open(data.path).read().split())


@dsl.component
def unique(i: int, stat: int) -> int:
    mark(f"run{i}")
    return i + stat


@dsl.pipeline(name="small")
def small(i: int, group: int, seed: int = 1) -> int:
    p = prep(seed=seed)
    g = group_stat(group=group, data=p.outputs["data"])
    return unique(i=i, stat=g.output).output
'''


def small_output(i: int, group: int, seed: int = 1) -> int:
    return i + group + sum(seed * k for k in range(100))
