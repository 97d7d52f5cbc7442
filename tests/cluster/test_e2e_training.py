"""The training example on a real Argo controller and kubelet: cold, fully cached, partially cached.

The tests of this module share one team namespace, database and bucket (``training_tenant``) and
run in order: the cached scenarios need the cold run's cache entries. Pods are counted by
watching them (``PodRecorder``), Workflows by listing them through the API.
"""

from __future__ import annotations

import json
import uuid

import pytest

from tests.cluster.platform import TRAINING, open_tenant
from tests.cluster.pods import PodRecorder

pytestmark = pytest.mark.e2e

STATE: dict = {}
# One task instance per task, the loop's four HPO candidates, the exit handler's notify.
EXPECTED_TASKS = {"ingest", "validate", "preprocess", "train", "pick-best", "evaluate", "register", "notify"}


@pytest.fixture(scope="module")
def training_tenant(platform, tmp_path_factory):
    with open_tenant(platform, tmp_path_factory.mktemp("training")) as tenant:
        # Same parameters for every run of the module, so cluster and laptop runs share cache keys; a
        # fresh registry folder, so the register task's output (v1) is the same in a pod and here.
        tenant.params = ["-p", f"registry_root=/tmp/conveyor-e2e-registry-{uuid.uuid4().hex[:8]}"]
        yield tenant


def _json(proc) -> dict:
    assert proc.returncode in (0, 1), f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout)


def _params(store, run_id: str) -> dict[str, list[dict]]:
    """Task -> the output parameters of its instances, in a stable order. Loop iterations are
    matched by value: locally they are ``train[0]``..., on Argo ``train[<digest of the inputs>]``."""
    out: dict[str, list[dict]] = {}
    for t in store.list_tasks(run_id):
        out.setdefault(t.task_name, []).append((t.outputs or {}).get("parameters", {}))
    return {k: sorted(v, key=lambda d: json.dumps(d, sort_keys=True)) for k, v in out.items()}


def test_training_example_succeeds_on_real_pods(training_tenant, platform):
    tenant = training_tenant
    with PodRecorder(platform.cluster.api, tenant.namespace) as pods:
        proc = tenant.submit(str(TRAINING), *tenant.params, "--watch", "--json", timeout=1200)
    data = _json(proc)
    assert proc.returncode == 0 and data["status"] == "succeeded", (data.get("error"), proc.stderr[-2000:])
    STATE["cold"] = data
    run_id = data["run_id"]
    assert data["workflow"], "a cold run must create a Workflow"

    with tenant.store() as store:
        run = store.get_run(run_id)
        tasks = store.list_tasks(run_id)
        assert run.status == "succeeded"
        assert {t.task_name for t in tasks} == EXPECTED_TASKS
        assert all(t.status == "succeeded" for t in tasks), [(t.task_id, t.status, t.error) for t in tasks]
        assert sum(t.task_name == "train" for t in tasks) == 4  # one per HPO candidate
        for t in tasks:  # every task recorded its attempt, from its own pod
            attempts = store.list_attempts(run_id, t.task_id)
            assert [a.status for a in attempts] == ["succeeded"], (t.task_id, attempts)
        artifacts = [a for t in tasks for a in (t.outputs or {}).get("artifacts", {}).values()]
    # every artifact is an object in the tenant's bucket, with the recorded size
    s3 = platform.s3.client()
    assert artifacts
    for art in artifacts:
        assert art["uri"].startswith(f"s3://{tenant.bucket}/"), art
        key = art["uri"].split("/", 3)[3]
        head = s3.head_object(Bucket=tenant.bucket, Key=key)
        assert head["ContentLength"] >= 0

    counts = pods.count_by_task()
    assert counts == {"ingest": 1, "validate": 1, "preprocess": 1, "train": 4, "pick-best": 1, "evaluate": 1,
                      "register": 1, "notify": 1}, counts
    assert pods.max_running.get("train", 0) <= 2  # the HPO loop's parallelism
    STATE["pods"] = pods

    # A laptop run (subprocesses, SQLite, local files) of the same pipeline computes the same outputs.
    local = _json(tenant.conveyor("run", str(TRAINING), *tenant.params, "--json", timeout=900,
                                  home=tenant.home / "laptop"))
    assert local["status"] == "succeeded"
    from conveyor.stores.metadata import open_metadata_store

    with open_metadata_store(f"sqlite:///{tenant.home / 'laptop' / 'metadata.db'}") as lstore, \
            tenant.store() as cstore:
        laptop, cluster = _params(lstore, local["run_id"]), _params(cstore, run_id)
    laptop.pop("notify", None), cluster.pop("notify", None)  # delivery result: no webhook configured locally
    assert laptop.keys() == cluster.keys()
    for task, values in cluster.items():
        assert len(values) == len(laptop[task]), task
        for got, want in zip(values, laptop[task], strict=True):
            assert got.keys() == want.keys(), task
            for name, value in got.items():
                expected = want[name]
                assert value == (pytest.approx(expected, rel=1e-9) if isinstance(expected, float) else expected), \
                    (task, name)


def _workflow_names(tenant) -> set[str]:
    return {w["metadata"]["name"] for w in tenant.workflows()}


def _body_cached(data: dict) -> None:
    """Every task but the exit handler's notify is cached (issue 12: every run notifies)."""
    body = {t["name"]: t["status"] for t in data["tasks"] if t["task"] != "notify"}
    assert set(body.values()) == {"cached"}, body


def test_fully_cached_resubmit_runs_only_the_exit_notification(training_tenant, platform):
    """The training example has an exit handler that must notify on every run (issue 12), so its
    re-submit still needs one Workflow: its entrypoint is a pod-less zero-length suspend, and the
    notify pod is the only pod."""
    tenant = training_tenant
    assert "cold" in STATE, "needs the cold run"
    platform.webhook.reset()
    with PodRecorder(platform.cluster.api, tenant.namespace) as pods:
        data = _json(tenant.submit(str(TRAINING), *tenant.params, "--watch", "--json"))
    assert data["status"] == "succeeded", data.get("error")
    _body_cached(data)
    assert pods.count_by_task() == {"notify": 1}, pods.count_by_task()
    with tenant.store() as store:
        rows = {t.task_id: t for t in store.list_tasks(data["run_id"])}
    assert all(r.cached_from_run == STATE["cold"]["run_id"] for k, r in rows.items() if k != "notify"), rows
    assert [r.json["status"] for r in platform.webhook.wait_for(1, timeout=30)] == ["succeeded"]


def test_fully_cached_resubmit_without_exit_handler_creates_no_workflow_and_no_pod(platform, tmp_path):
    """A pipeline with a dynamic fan-out, a literal loop and a false condition: once it has run, a
    re-submit creates nothing at all (resolved before submitting, loops item by item)."""
    from tests.cluster.test_e2e_scenarios import target

    with open_tenant(platform, tmp_path) as tenant:
        args = ("-p", "n=3", "-p", "flag=no", "-p", "nap_s=0.5", "--watch", "--json")
        first = _json(tenant.submit(target("control_flow"), *args))
        assert first["status"] == "succeeded" and first["workflow"], first.get("error")
        before = _workflow_names(tenant)
        with PodRecorder(platform.cluster.api, tenant.namespace) as pods:
            data = _json(tenant.submit(target("control_flow"), *args))
        assert data["status"] == "succeeded" and data["workflow"] is None, data
        assert _workflow_names(tenant) == before and pods.snapshot() == []
        statuses = {t["name"]: t["status"] for t in data["tasks"]}
        assert statuses.pop("never") == "skipped" and set(statuses.values()) == {"cached"}, statuses
        assert data["outputs"] == first["outputs"] == {"Output": 14}


def test_laptop_and_cluster_share_the_cache_both_ways(training_tenant, platform):
    tenant = training_tenant
    assert "cold" in STATE, "needs the cold run"
    env = tenant.storage_env()
    # cluster -> laptop: the cold cluster run's entries make a laptop run against the same stores compute nothing
    local = _json(tenant.conveyor("run", str(TRAINING), *tenant.params, "--json", env=env, home=tenant.home / "l2"))
    assert local["status"] == "succeeded"
    _body_cached(local)
    # laptop -> cluster: new parameters run on the laptop first, then no body task of the cluster run computes
    params = [*tenant.params, "-p", "seed=11"]
    local = _json(tenant.conveyor("run", str(TRAINING), *params, "--json", env=env, home=tenant.home / "l3",
                                  timeout=900))
    assert local["status"] == "succeeded"
    assert "cached" not in {t["status"] for t in local["tasks"] if t["task"] not in ("notify", "ingest", "validate")}
    with PodRecorder(platform.cluster.api, tenant.namespace) as pods:
        data = _json(tenant.submit(str(TRAINING), *params, "--watch", "--json"))
    assert data["status"] == "succeeded", data.get("error")
    _body_cached(data)
    assert pods.count_by_task() == {"notify": 1}, pods.count_by_task()


def test_partially_cached_runs_only_downstream_pods(training_tenant, platform):
    tenant = training_tenant
    assert "cold" in STATE, "needs the cold run"
    params = [*tenant.params, "-p", "test_size=0.3"]  # read by preprocess; ingest and validate stay cached
    with PodRecorder(platform.cluster.api, tenant.namespace) as pods:
        proc = tenant.submit(str(TRAINING), *params, "--watch", "--json", timeout=1200)
    data = _json(proc)
    assert data["status"] == "succeeded", data.get("error")
    assert data["workflow"]
    by_task = {t["task"]: t["status"] for t in data["tasks"]}
    assert by_task["ingest"] == by_task["validate"] == "cached", by_task
    counts = pods.count_by_task()
    assert "ingest" not in counts and "validate" not in counts, counts
    assert {"preprocess", "train", "pick-best", "evaluate"} <= counts.keys(), counts
    assert counts["train"] == 4
