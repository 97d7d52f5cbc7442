"""The mapping, feature by feature: what each DSL construct becomes in the Workflow."""

from __future__ import annotations

import json
from dataclasses import replace

from conveyor.compiler.argo import compile_workflow, decode_spec
from tests.pipelines.compiler.feature_pipelines import FEATURES
from tests.pipelines.compiler.helpers import args_of, container_templates, dag_tasks, flag_values, templates


def compiled(name, profile, options):
    return compile_workflow(FEATURES[name].pipeline_spec, profile, options)


def test_dag_edges_labels_and_workflow_settings(profile, options):
    wf = compiled("basic_dag", profile, options)
    tasks = dag_tasks(wf, "basic-dag")
    assert tasks["train"]["dependencies"] == ["make-data"]
    assert tasks["shout"]["dependencies"] == ["stats", "train"]  # data edge + .after()
    assert args_of(tasks["train"])["data"] == "{{tasks.make-data.outputs.parameters.out}}"
    assert args_of(tasks["make-data"])["rows"] == "{{workflow.parameters.rows}}"
    assert wf["spec"]["arguments"]["parameters"] == [{"name": "rows", "value": "100"}]
    assert wf["metadata"]["labels"] == {
        "conveyor.dev/pipeline": "basic-dag",
        "conveyor.dev/run-id": "run-0001",
    }
    assert wf["metadata"]["namespace"] == "ml-team-a"
    assert wf["spec"]["serviceAccountName"] == "conveyor-workflow"
    assert wf["spec"]["podGC"] == {"strategy": "OnPodSuccess"}
    assert wf["spec"]["podMetadata"]["labels"]["conveyor.dev/run-id"] == "run-0001"
    train = templates(wf)["train"]
    assert train["metadata"]["labels"]["conveyor.dev/task"] == "{{inputs.parameters.conveyor-task}}"
    assert {p["name"]: p["valueFrom"]["path"] for p in train["outputs"]["parameters"]} == {
        "model": "/tmp/conveyor/outputs/model",
        "Output": "/tmp/conveyor/outputs/Output",
    }
    metadata_env = next(e for e in train["container"]["env"] if e["name"] == "CONVEYOR_METADATA_URL")
    assert metadata_env["valueFrom"]["secretKeyRef"] == {"name": "conveyor-metadata", "key": "url"}
    assert "postgresql://" not in json.dumps(wf)  # the secret metadata URL never lands in the manifest


def test_parallel_for_literal_param_and_collected(profile, options):
    wf = compiled("parallel_for", profile, options)
    root = dag_tasks(wf, "parallel-for")
    loop1 = dag_tasks(wf, "for-loop-1")["for-loop-1-iter"]
    assert loop1["withItems"] == ["a", "b", "c"] and templates(wf)["for-loop-1"]["parallelism"] == 2
    assert args_of(loop1)["for-loop-1-item"] == "{{item}}"
    loop2 = dag_tasks(wf, "for-loop-2")["for-loop-2-iter"]
    assert loop2["withParam"] == "{{workflow.parameters.lrs}}"
    assert args_of(root["for-loop-2"])["make-data-out"] == "{{tasks.make-data.outputs.parameters.out}}"
    assert args_of(root["pick-best"])["scores"] == "{{tasks.for-loop-2.outputs.parameters.train-Output}}"
    assert root["pick-best"]["dependencies"] == ["for-loop-2"]
    wrapper_out = templates(wf)["for-loop-2"]["outputs"]["parameters"][0]
    assert (
        wrapper_out["valueFrom"]["parameter"] == "{{tasks.for-loop-2-iter.outputs.parameters.train-Output}}"
    )


def test_dynamic_fanout_reads_items_from_upstream_output(profile, options):
    wf = compiled("dynamic_fanout", profile, options)
    root = dag_tasks(wf, "dynamic-fanout")
    assert root["for-loop-1"]["dependencies"] == ["list-segments"]
    assert args_of(root["for-loop-1"]) == {
        "list-segments-Output": "{{tasks.list-segments.outputs.parameters.Output}}"
    }
    it = dag_tasks(wf, "for-loop-1")["for-loop-1-iter"]
    assert it["withParam"] == "{{inputs.parameters.list-segments-Output}}"
    assert templates(wf)["for-loop-1"]["parallelism"] == 4


def test_nested_loops_forward_outer_item_fields_and_collect_nested(profile, options):
    wf = compiled("nested_loops", profile, options)
    outer = dag_tasks(wf, "for-loop-1")["for-loop-1-iter"]
    assert args_of(outer) == {"for-loop-1-item-a": "{{item.a}}"}
    add = dag_tasks(wf, "for-loop-2-body")["add"]
    assert args_of(add)["a"] == "{{inputs.parameters.for-loop-1-item-a}}"
    assert args_of(add)["b"] == "{{inputs.parameters.for-loop-2-item}}"
    assert dag_tasks(wf, "for-loop-2")["for-loop-2-iter"]["withItems"] == [10, 20, 30]
    assert args_of(dag_tasks(wf, "nested-loops")["pick-best"])["scores"] == (
        "{{tasks.for-loop-1.outputs.parameters.add-Output}}"
    )


def test_conditions_quote_strings_and_chain_elif_else(profile, options):
    wf = compiled("conditions", profile, options)
    root = dag_tasks(wf, "conditions")
    out = "{{tasks.train.outputs.parameters.Output}}"
    first = f"{out} > {{{{workflow.parameters.threshold}}}}"
    assert root["condition-1"]["when"] == first
    assert root["condition-2"]["when"] == f"(!({first})) && ({out} > 0.2)"
    assert root["condition-3"]["when"] == f"(!({first})) && (!({out} > 0.2))"
    assert root["condition-4"]["when"] == "'{{workflow.parameters.mode}}' == 'fast'"
    assert root["condition-1"]["dependencies"] == ["train"]
    assert args_of(dag_tasks(wf, "condition-1")["shout"])["text"] == "deploy"


def test_exit_handler_runs_on_exit_with_final_status(profile, options):
    wf = compiled("exit_handler", profile, options)
    assert wf["spec"]["onExit"] == "exit-handler"
    assert "report" not in dag_tasks(wf, "with-exit-handler")
    report = dag_tasks(wf, "exit-handler")["report"]
    status = json.loads(args_of(report)["status"])
    assert status == {
        "state": "{{workflow.status}}",
        "pipeline_job_resource_name": "{{workflow.name}}",
        "pipeline_task_name": "report",
    }
    assert args_of(report)["channel"] == "{{workflow.parameters.channel}}"
    assert flag_values(templates(wf)["report"]["container"], "--workflow-failures") == [
        "{{workflow.failures}}"
    ]


def test_retries_backoff_permanent_exit_code_timeout_and_no_cache(profile, options):
    wf = compiled("retries_timeouts", profile, options)
    first, second = (t for t in container_templates(wf).values())
    assert first["retryStrategy"] == {
        "limit": "3",
        "retryPolicy": "Always",
        "expression": 'lastRetry.exitCode != "3"',
        "backoff": {"duration": "10s", "factor": "2", "cap": "300s"},
    }
    assert first["activeDeadlineSeconds"] == "600"
    assert "--no-cache" in first["container"]["args"]
    assert second["retryStrategy"]["limit"] == "2" and "activeDeadlineSeconds" not in second
    assert "--no-cache" not in second["container"]["args"]


def test_resources_gpu_pools_and_spot_fallback(profile, options):
    wf = compiled("gpu_resources", profile, options)
    tmpl = templates(wf)
    assert tmpl["make-data"]["container"]["resources"] == {
        "requests": {"cpu": "500m", "memory": "1Gi"},
        "limits": {"memory": "2Gi"},
    }
    spot = tmpl["train"]
    assert spot["container"]["resources"]["limits"] == {"cpu": "4", "nvidia.com/gpu": "1"}
    assert spot["nodeSelector"] == {"conveyor.dev/capacity": "spot", "conveyor.dev/pool": "gpu-a10g-spot"}
    assert spot["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}
    ]
    patch = json.loads(spot["podSpecPatch"])["nodeSelector"]
    assert patch["conveyor.dev/pool"] == "{{=asInt(retries) < 1 ? 'gpu-a10g-spot' : 'gpu-a10g-ondemand'}}"
    assert spot["retryStrategy"]["limit"] == "1"  # the fallback attempt, taken only after a preemption
    assert "143" in spot["retryStrategy"]["expression"]
    ondemand = tmpl["train-2"]
    assert ondemand["nodeSelector"]["conveyor.dev/pool"] == "gpu-a10g-ondemand"
    assert "podSpecPatch" not in ondemand and "retryStrategy" not in ondemand


def test_env_secrets_node_selector_and_tolerations(profile, options):
    opts = replace(options, secret_env={"SLACK_WEBHOOK_URL": "notify/slack"})
    shout = templates(compile_workflow(FEATURES["env_and_scheduling"].pipeline_spec, profile, opts))["shout"]
    env = {e["name"]: e for e in shout["container"]["env"]}
    assert env["LOG_LEVEL"]["value"] == "debug"
    assert env["API_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "ml-api", "key": "token"}
    assert env["SLACK_WEBHOOK_URL"]["valueFrom"]["secretKeyRef"] == {"name": "notify", "key": "slack"}
    assert shout["nodeSelector"] == {"kubernetes.io/arch": "amd64"}
    assert shout["tolerations"] == [
        {"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}
    ]


def test_subpipeline_tasks_are_inlined(profile, options):
    wf = compiled("subpipeline", profile, options)
    root = dag_tasks(wf, "subpipeline")
    assert args_of(root["inner-add"])["a"] == "{{tasks.add.outputs.parameters.Output}}"
    assert args_of(root["add-2"])["a"] == "{{tasks.inner-add.outputs.parameters.Output}}"
    # one template per (component, bound inputs, settings): add(a) twice shares one, add(a, b) has its own
    assert {n: flag_values(t["container"], "--input") for n, t in container_templates(wf).items()} == {
        "add": ["a={{inputs.parameters.a}}"],
        "add-2": ["a={{inputs.parameters.a}}", "b={{inputs.parameters.b}}"],
    }


def test_embedded_spec_round_trips(profile):
    spec = FEATURES["conditions"].pipeline_spec
    wf = compile_workflow(spec, profile)
    params = {p["name"]: p.get("value") for p in wf["spec"]["arguments"]["parameters"]}
    assert decode_spec(params["conveyor-spec"]) == spec.portable()  # the cluster never sees local paths
    train = templates(wf)["train"]["container"]
    assert flag_values(train, "--spec") == ["env:CONVEYOR_SPEC"]
    env = {e["name"]: e.get("value") for e in train["env"]}
    assert env["CONVEYOR_SPEC"] == "{{workflow.parameters.conveyor-spec}}"
    assert wf["metadata"]["labels"]["conveyor.dev/run-id"].startswith("run-")
