"""kfp branch features on a real Argo controller: dsl.OneOf over If/Else (a parameter and an artifact,
the Else branch running) and .ignore_upstream_failure() receiving its input's default after its
upstream failed. Each run must record in the metadata store exactly what the local executor gives
for the same pipeline (``EXPECTED``, asserted locally by tests/pipelines/kfp/test_kfp_branch_parity.py).

Run: ``CONVEYOR_E2E=1 pytest tests/cluster/test_e2e_kfp_branches.py`` (see tests/cluster/conftest.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cluster.e2e_branch_pipelines import EXPECTED
from tests.cluster.pods import PodRecorder

pytestmark = pytest.mark.e2e

PIPELINES = str(Path(__file__).with_name("e2e_branch_pipelines.py"))
CONSUMER = {"one_of_parameter": "echo", "one_of_artifact": "read-text", "ignore_upstream_failure": "clean-up"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_branch_scenario_records_what_the_local_run_gives(tenant, platform, name):
    arguments, status, outputs, tasks = EXPECTED[name]
    params = [x for k, v in arguments.items() for x in ("-p", f"{k}={json.dumps(v)}")]
    with PodRecorder(platform.cluster.api, tenant.namespace) as pods:
        proc = tenant.submit(f"{PIPELINES}:{name}", *params, "--watch", "--json")
    assert proc.returncode in (0, 1), f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    data = json.loads(proc.stdout)
    assert (proc.returncode, data["status"]) == ((0, "succeeded") if status == "succeeded" else (1, "failed")), data
    with tenant.store() as store:
        run = store.get_run(data["run_id"])
        rows = {t.task_name: t for t in store.list_tasks(data["run_id"])}
    assert run.status == status and run.outputs == outputs, (run.status, run.outputs)
    assert {n: r.status for n, r in rows.items()} == tasks, rows
    consumer = rows[CONSUMER[name]]
    assert consumer.outputs["parameters"]["Output"] == outputs["Output"], consumer.outputs
    counts = pods.count_by_task()
    assert not {t for t, s in tasks.items() if s == "skipped"} & set(counts), counts  # a skipped branch: no pod
    assert counts[CONSUMER[name]] == 1, counts
