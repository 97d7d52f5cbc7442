"""End-to-end local runs: data passing, artifacts, control flow, outputs, metadata."""

from __future__ import annotations

import json

from tests.pipelines.executor.conftest import by_name

BASIC = """
@dsl.component
def make_data(n: int, data: Output[Dataset]) -> int:
    with open(data.path, "w") as fh:
        fh.write("\\n".join(str(i) for i in range(n)))
    data.metadata["rows"] = n
    return n

@dsl.component
def stats(data: Input[Dataset], m: Output[Metrics]) -> float:
    values = [int(x) for x in open(data.path).read().split()]
    m.log_metric("mean", sum(values) / len(values))
    return sum(values) / len(values)

@dsl.component
def square(x: int) -> int:
    return x * x

@dsl.component
def total(values: list) -> int:
    return sum(values)

@dsl.component
def say(msg: str) -> str:
    return msg

@dsl.pipeline(name="basic")
def basic(n: int = 5, items: list = [1, 2, 3]) -> int:
    d = make_data(n=n)
    s = stats(data=d.outputs["data"])
    with dsl.ParallelFor(items, parallelism=2) as item:
        sq = square(x=item)
    t = total(values=dsl.Collected(sq.output))
    with dsl.If(s.outputs["Output"] > 1.5):
        say(msg="big")
    with dsl.Else():
        say(msg="small")
    return t.output
"""


def test_basic_pipeline_runs_and_records_everything(write_pipeline, run_file, runner):
    result = run_file(write_pipeline(BASIC))
    assert result.status == "succeeded", result.error
    tasks = by_name(result)
    assert {"make-data", "stats", "square[0]", "square[1]", "square[2]", "total", "say", "say-2"} == set(tasks)
    assert tasks["say"].status == "succeeded"  # mean of 0..4 = 2.0 > 1.5
    assert tasks["say-2"].status == "skipped"
    assert result.outputs == {"Output": 14}
    store = runner.store
    run = store.get_run(result.run_id)
    assert run.status == "succeeded" and run.outputs == {"Output": 14}
    metrics = {m.name: m.value for m in store.list_metrics(result.run_id)}
    assert metrics == {"mean": 2.0}
    data = store.find_artifacts(run_id=result.run_id)
    assert {a.output_name for a in data} == {"data", "m"}
    dataset = next(a for a in data if a.output_name == "data")
    assert dataset.digest.startswith("sha256:") and dataset.metadata == {"rows": 5}
    lineage = store.list_lineage(run_id=result.run_id)
    assert any(rec.task_id == "stats" and rec.direction == "in" for rec in lineage)
    assert store.consistency_report(result.run_id).ok
    for t in result.tasks:
        if t.status == "succeeded":
            assert t.attempts == 1 and t.peak_rss_mb and t.peak_rss_mb > 1


def test_condition_takes_else_branch_with_other_argument(write_pipeline, run_file):
    result = run_file(write_pipeline(BASIC), {"n": 2})  # mean of 0..1 = 0.5
    tasks = by_name(result)
    assert tasks["say"].status == "skipped" and tasks["say-2"].status == "succeeded"


def test_dynamic_fan_out_over_upstream_output(write_pipeline, run_file):
    path = write_pipeline("""
    @dsl.component
    def segments(n: int) -> list:
        return [{"name": f"s{i}", "size": i + 1} for i in range(n)]

    @dsl.component
    def train(name: str, size: int) -> str:
        return f"{name}:{size * 10}"

    @dsl.component
    def summary(models: list) -> str:
        return ",".join(models)

    @dsl.pipeline(name="dyn")
    def dyn(n: int = 3) -> str:
        seg = segments(n=n)
        with dsl.ParallelFor(seg.output) as s:
            t = train(name=s.name, size=s.size)
        return summary(models=dsl.Collected(t.output)).output
    """)
    result = run_file(path, {"n": 4})
    assert result.status == "succeeded", result.error
    assert result.outputs["Output"] == "s0:10,s1:20,s2:30,s3:40"
    assert sum(t.task == "train" for t in result.tasks) == 4


def test_nested_loops_and_parallelism_cap(write_pipeline, run_file, tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    path = write_pipeline(f"""
    @dsl.component
    def cell(a: int, b: int) -> int:
        import os, time
        start = time.time()
        time.sleep(0.15)
        open(os.path.join({str(marks)!r}, f"{{a}}-{{b}}"), "w").write(f"{{start}} {{time.time()}}")
        return a * 10 + b

    @dsl.component
    def flat(values: list) -> list:
        return values

    @dsl.pipeline(name="nested")
    def nested() -> list:
        with dsl.ParallelFor([1, 2, 3], parallelism=1) as a:
            with dsl.ParallelFor([1, 2]) as b:
                c = cell(a=a, b=b)
        return flat(values=dsl.Collected(c.output)).output
    """)
    result = run_file(path, parallelism=4)
    assert result.status == "succeeded", result.error
    assert result.outputs["Output"] == [[11, 12], [21, 22], [31, 32]]
    spans = {p.name: tuple(map(float, p.read_text().split())) for p in marks.iterdir()}
    # parallelism=1 on the outer loop: iterations a=1,2,3 never overlap each other
    for a1, a2 in ((1, 2), (2, 3), (1, 3)):
        first = [spans[f"{a1}-{b}"] for b in (1, 2)]
        second = [spans[f"{a2}-{b}"] for b in (1, 2)]
        assert max(e for _, e in first) <= min(s for s, _ in second) + 0.01 or \
            max(e for _, e in second) <= min(s for s, _ in first) + 0.01


def test_exit_handler_runs_after_failure_with_final_status(write_pipeline, run_file):
    path = write_pipeline("""
    @dsl.component
    def boom():
        raise dsl.PermanentError("bad data in column x")

    @dsl.component
    def report(status: dsl.PipelineTaskFinalStatus) -> str:
        return f"{status.state}|{status.error_message}"

    @dsl.pipeline(name="exits")
    def exits():
        final = report()
        with dsl.ExitHandler(final):
            boom()
    """)
    result = run_file(path)
    tasks = by_name(result)
    assert result.status == "failed"
    assert tasks["boom"].status == "failed" and tasks["boom"].attempts == 1
    assert tasks["report"].status == "succeeded"


def test_named_tuple_outputs_and_output_paths(write_pipeline, run_file):
    path = write_pipeline("""
    @dsl.component
    def split(x: int) -> NamedTuple("Out", [("half", int), ("rest", int)]):
        from collections import namedtuple
        return namedtuple("Out", ["half", "rest"])(x // 2, x % 2)

    @dsl.component
    def write(value: int, out: OutputPath(str)):
        open(out, "w").write(f"v={value}")

    @dsl.component
    def read(text: InputPath(str)) -> str:
        return open(text).read()

    @dsl.pipeline(name="shapes")
    def shapes(x: int = 7) -> str:
        s = split(x=x)
        w = write(value=s.outputs["half"])
        return read(text=w.outputs["out"]).output
    """)
    result = run_file(path)
    assert result.status == "succeeded", result.error
    assert result.outputs["Output"] == "v=3"


def test_result_json_has_documented_shape(write_pipeline, run_file):
    result = run_file(write_pipeline(BASIC))
    data = json.loads(json.dumps(result.to_dict()))
    assert data["status"] == "succeeded" and data["run_id"] == result.run_id
    for task in data["tasks"]:
        assert {"name", "status", "attempts", "duration_s", "peak_rss_mb"} <= set(task)
        assert task["status"] in ("succeeded", "cached", "skipped", "failed")


def test_condition_type_error_fails_the_run_loudly(write_pipeline, run_file):
    """kfp.local silently skips a branch whose condition cannot be evaluated; conveyor fails the run."""
    path = write_pipeline("""
    @dsl.component
    def label() -> str:
        return "high"

    @dsl.component
    def act() -> int:
        return 1

    @dsl.pipeline(name="badcond")
    def badcond(limit: float = 0.5):
        lab = label()
        with dsl.If(lab.output == "high"):
            act()
        with dsl.If(lab.output > limit):
            act()
    """)
    result = run_file(path)
    tasks = by_name(result)
    assert result.status == "failed"
    assert tasks["act-2"].status == "failed" and tasks["act-2"].attempts == 0  # never ran, never skipped
    assert "'high'" in tasks["act-2"].error and "act-2" in result.error
