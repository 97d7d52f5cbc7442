"""``--watch`` on a pod that no node can host for lack of GPUs: a clear line, then a bounded wait.

The node messages are shaped like the scheduler's reason that Argo v4.0.5 copies into a pending
node (``tests/cluster/test_e2e_placement.py`` checks the same line end to end on the real controller).
"""

from __future__ import annotations

from conveyor.launcher.watch import Watcher, as_workflow, gpu_capacity_wait, nodes_of

UNSCHEDULABLE = ("Unschedulable: 0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: 0/1 nodes are "
                 "available: 1 No preemption victims found for incoming pod.")


def _wf(phase: str, message: str | None) -> dict:
    node = {"id": "n1", "name": "wf.on-gpu", "displayName": "on-gpu", "type": "Pod", "phase": phase,
            "startedAt": "2026-12-02T14:00:00Z",
            "inputs": {"parameters": [{"name": "conveyor-task", "value": "on-gpu"}]}}
    if message:
        node["message"] = message
    return {"status": {"phase": "Running", "nodes": {"n1": node}}, "spec": {}}


class Client:
    def __init__(self, statuses: list[dict]) -> None:
        self.statuses = statuses
        self.reads = 0

    def get_namespaced_custom_object(self, *args, **kwargs) -> dict:
        self.reads += 1
        return self.statuses[min(self.reads, len(self.statuses)) - 1]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _node(phase: str, message: str | None):
    return nodes_of(as_workflow(_wf(phase, message)))["n1"]


def test_gpu_capacity_wait_names_the_resource_and_keeps_the_schedulers_reason():
    line = gpu_capacity_wait(_node("Pending", UNSCHEDULABLE))
    assert line.startswith("pending on GPU capacity: no node can host its nvidia.com/gpu request")
    assert "0/1 nodes are available: 1 Insufficient nvidia.com/gpu" in line
    assert gpu_capacity_wait(_node("Pending", "Unschedulable: 0/1 nodes are available: 1 Insufficient cpu.")) is None
    assert gpu_capacity_wait(_node("Running", UNSCHEDULABLE)) is None


def test_watch_reports_the_wait_when_the_message_appears_and_stops_after_the_bound():
    clock = Clock()
    client = Client([_wf("Pending", None), _wf("Pending", UNSCHEDULABLE)])
    events = []
    watcher = Watcher(client, "ns", "wf", on_event=events.append, poll_s=5, max_pending_s=30, sleep=clock.sleep,
                      clock=clock)
    workflow = watcher.run()
    assert workflow.status.phase == "Running"
    # the phase stayed Pending: the new message alone is reported, once
    assert [(e.phase, (e.message or "")[:23]) for e in events] == [("Pending", ""), ("Pending", "pending on GPU capacity")]
    assert watcher.stalled is not None and watcher.stalled.task == "on-gpu"
    assert "waited 30s" in watcher.stalled.message
    assert clock.now == 35  # first seen at t=5, given up at t=35: bounded by max_pending_s


def test_watch_without_a_bound_keeps_waiting_for_a_schedulable_pod():
    clock = Clock()
    done = {"status": {"phase": "Succeeded", "nodes": {}}, "spec": {}}
    client = Client([_wf("Pending", UNSCHEDULABLE)] * 3 + [done])
    watcher = Watcher(client, "ns", "wf", poll_s=100, sleep=clock.sleep, clock=clock)
    assert watcher.run().status.phase == "Succeeded" and watcher.stalled is None
