"""conveyor.client.Client against kfp 2.x's Client: same call signatures, KFP-shaped answers, local runs
in the background, bad input refused at the call with nothing recorded."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

PIPE = """
@dsl.component
def add(a: int, b: int) -> int:
    return a + b

@dsl.component
def slow(seconds: float) -> float:
    import time
    time.sleep(seconds)
    return seconds

@dsl.component
def boom(a: int):
    raise dsl.PermanentError(f"boom {a}")

@dsl.pipeline
def adder(a: int = 1, b: int = 2) -> int:
    return add(a=add(a=a, b=b).output, b=b).output

@dsl.pipeline
def sleeper(seconds: float = 3.0) -> float:
    return slow(seconds=seconds).output

@dsl.pipeline
def failing(a: int = 1):
    boom(a=a)
"""

METHODS = ["__init__", "create_run_from_pipeline_func", "create_run_from_pipeline_package", "run_pipeline",
           "wait_for_run_completion", "get_run", "list_runs", "create_experiment", "get_experiment",
           "list_experiments", "create_recurring_run"]


@pytest.fixture
def pipes(home, write_pipeline):
    from conveyor.runtime.loader import load_module_file

    return load_module_file(write_pipeline(PIPE, name="clientpipes"))


@pytest.fixture
def client(home):
    from conveyor.client import Client

    c = Client()
    yield c
    c.close()


@pytest.mark.parametrize("method", METHODS)
def test_every_kfp_parameter_is_accepted_in_the_same_position(method):
    kfp_client = pytest.importorskip("kfp.client")
    from conveyor.client import Client

    theirs = [p for p in inspect.signature(getattr(kfp_client.Client, method)).parameters.values()]
    ours = list(inspect.signature(getattr(Client, method)).parameters.values())
    positional = [p.name for p in ours if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert positional[:len(theirs)] == [p.name for p in theirs]


def test_run_and_experiment_attributes_are_kfp_server_api_names():
    kfp_server_api = pytest.importorskip("kfp_server_api")
    from conveyor.client import Experiment, ListRunsResponse, Run
    from conveyor.client.models import KFP_STATES

    for ours, theirs in ((Run, kfp_server_api.V2beta1Run), (Experiment, kfp_server_api.V2beta1Experiment),
                         (ListRunsResponse, kfp_server_api.V2beta1ListRunsResponse)):
        extra = set(ours.__dataclass_fields__) - set(theirs.openapi_types) - {"outputs"}
        assert extra == set(), f"{ours.__name__} has fields kfp does not: {extra}"
    states = {v for v in vars(kfp_server_api.V2beta1RuntimeState).values() if isinstance(v, str) and v.isupper()}
    assert set(KFP_STATES.values()) <= states


def test_create_run_returns_at_once_and_wait_gives_the_finished_run(client, pipes):
    from conveyor.client import RunPipelineResult

    # No wall-clock bound (timed tests flake under load): a 5 s task still unfinished right after
    # create_run returns is the proof that create_run did not wait for it.
    result = client.create_run_from_pipeline_func(pipes.sleeper, arguments={"seconds": 5.0}, run_name="nap",
                                                  service_account="trainer")
    assert isinstance(result, RunPipelineResult) and result.run_id == result.run_info.run_id
    assert client.get_run(result.run_id).state in ("PENDING", "RUNNING"), "create_run must not wait for the run"
    run = result.wait_for_run_completion(timeout=120)
    assert run.state == "SUCCEEDED" and run.error is None
    assert run.outputs == {"Output": 5.0} and run.display_name == "nap" and run.service_account == "trainer"
    assert run.created_at.tzinfo is not None and run.finished_at >= run.created_at
    assert run.runtime_config.parameters == {"seconds": 5.0}
    assert [(t.task_id, t.state) for t in run.run_details.task_details] == [("slow", "SUCCEEDED")]
    assert run.pipeline_spec["name"] == "sleeper"


def test_wait_times_out_with_a_clear_error_and_the_run_still_finishes(client, pipes):
    result = client.create_run_from_pipeline_func(pipes.sleeper, arguments={"seconds": 3.0})
    with pytest.raises(TimeoutError, match=rf"run {result.run_id} .* did not finish within 0.2 s; it is (PENDING|RUNNING)"):
        client.wait_for_run_completion(result.run_id, timeout=0.2)
    assert client.wait_for_run_completion(result.run_id, timeout=120).state == "SUCCEEDED"


def test_failed_run_reads_failed_with_the_error(client, pipes):
    run = client.create_run_from_pipeline_func(pipes.failing, arguments={"a": 7}).wait_for_run_completion(120)
    assert run.state == "FAILED" and "boom 7" in run.error.message
    assert [(t.task_id, t.state) for t in run.run_details.task_details] == [("boom", "FAILED")]


def test_bad_arguments_raise_at_the_call_and_record_nothing(client, pipes):
    from conveyor.ir.errors import PipelineDefinitionError

    with pytest.raises(PipelineDefinitionError, match="unknown argument.*nope"):
        client.create_run_from_pipeline_func(pipes.adder, arguments={"nope": 1})
    assert client.list_runs().total_size == 0


def test_experiments_group_runs_and_list_runs_pages(client, pipes):
    exp = client.create_experiment("tuning", description="lr sweep")
    assert client.create_experiment("tuning").experiment_id == exp.experiment_id  # idempotent, like kfp
    assert client.get_experiment(experiment_name="tuning").experiment_id == exp.experiment_id
    # One after the other: background runs started together record their rows in any order, and the
    # paging below is by creation time.
    ids = []
    for a in (1, 2, 3):
        ids.append(client.create_run_from_pipeline_func(pipes.adder, arguments={"a": a}, experiment_name="tuning").run_id)
        assert client.wait_for_run_completion(ids[-1], timeout=120).state == "SUCCEEDED"
    other = client.create_run_from_pipeline_func(pipes.adder, arguments={"a": 9}).run_id
    assert client.wait_for_run_completion(other, timeout=120).state == "SUCCEEDED"
    first = client.list_runs(experiment_id=exp.experiment_id, page_size=2, sort_by="created_at asc")
    second = client.list_runs(experiment_id=exp.experiment_id, page_size=2, page_token=first.next_page_token,
                              sort_by="created_at asc")
    assert first.total_size == 3 and second.next_page_token is None
    assert [r.run_id for r in first.runs + second.runs] == ids
    assert [r.outputs["Output"] for r in first.runs + second.runs] == [5, 6, 7]
    names = [e.display_name for e in client.list_experiments().experiments]
    assert names == ["tuning", "Default"]
    with pytest.raises(LookupError, match="no experiment with name 'nope'; experiments: Default, tuning"):
        client.get_experiment(experiment_name="nope")


def test_package_from_conveyor_compile_runs(client, pipes, home, tmp_path):
    from conveyor.compiler.argo import CompileOptions, compile_workflow, to_yaml

    package = tmp_path / "adder.yaml"
    image = CompileOptions(image="conveyor.local/conveyor-task:test")  # as `conveyor compile --image`
    package.write_text(to_yaml(compile_workflow(pipes.adder.pipeline_spec, options=image)))
    run = client.create_run_from_pipeline_package(str(package), arguments={"a": 10}).wait_for_run_completion(120)
    assert run.state == "SUCCEEDED" and run.outputs == {"Output": 14}, run.error
    exp = client.create_experiment("pkg")
    run = client.run_pipeline(exp.experiment_id, "by-package", pipeline_package_path=str(package), params={"b": 1})
    assert run.display_name == "by-package" and run.experiment_id == exp.experiment_id
    assert client.wait_for_run_completion(run.run_id, 120).outputs == {"Output": 3}


@pytest.mark.parametrize(("call", "message"), [
    (lambda c, p: c.create_run_from_pipeline_package(p), "neither an Argo Workflow"),
    (lambda c, p: c.run_pipeline("x", "j", pipeline_id="abc"), "no pipeline registry"),
    (lambda c, p: c.create_recurring_run("x", "j", cron_expression="0 0 3 * * *", pipeline_package_path=p),
     "recurring runs need a cluster"),
    (lambda c, p: c.list_runs(filter='{"predicates": []}'), "filter=.* is not supported"),
])
def test_unsupported_calls_say_what_to_do(client, tmp_path, call, message):
    from conveyor.client.experiments import DEFAULT_EXPERIMENT

    client.create_experiment(DEFAULT_EXPERIMENT)
    package = tmp_path / "other.yaml"
    package.write_text("apiVersion: v1\nkind: ConfigMap\n")
    if "recurring" in message:
        from conveyor.client.experiments import experiment_id_for

        with pytest.raises(ValueError, match=message):
            client.create_recurring_run(experiment_id_for(DEFAULT_EXPERIMENT), "j", cron_expression="0 0 3 * * *",
                                        pipeline_package_path=str(package))
        return
    with pytest.raises(ValueError, match=message):
        call(client, str(package))


def test_host_without_profile_is_refused(home):
    from conveyor.client import Client

    with pytest.raises(ValueError, match="does not talk to a KFP API server .*profile=PATH or stack=NAME"):
        Client(host="http://ml-pipeline:8888")


def test_the_seeds_call_works_with_only_the_import_swapped(home, tmp_path):
    """`kfp.client.Client().create_run_from_pipeline_func(pipeline, arguments=..., service_account=...)` with
    `import conveyor as kfp`; the script ends without waiting and the run still completes."""
    script = tmp_path / "seed_submit.py"
    script.write_text(
        "import conveyor as kfp\nfrom conveyor import dsl\n\n"
        "@dsl.component\ndef double(x: int) -> int:\n    return 2 * x\n\n"
        "@dsl.pipeline\ndef seed(x: int = 1) -> int:\n    return double(x=x).output\n\n"
        "if __name__ == '__main__':\n"
        "    run = kfp.client.Client().create_run_from_pipeline_func(seed, arguments={'x': 21}, service_account='default')\n"
        "    print(run.run_id)\n")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    run_id = proc.stdout.split()[-1]
    from conveyor.client import Client

    run = Client().get_run(run_id)
    assert run.state == "SUCCEEDED" and run.outputs == {"Output": 42} and run.service_account == "default"
