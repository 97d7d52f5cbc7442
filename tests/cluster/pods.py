"""Watch every pod of a namespace through the API while a scenario runs.

Argo's pod GC deletes a succeeded pod soon after it ends, so counting pods at the end undercounts:
the recorder watches instead (``list`` + ``watch`` from the list's resourceVersion) and keeps the
history of each pod it ever saw: when the API first reported it, its phases with the time the
watch delivered each, the node and the ``conveyor.dev/task`` label. From that history the tests
read the number of pods per task, the most pods running at once (ParallelFor parallelism), where a
retry was placed and how long the controller took from a Workflow's creation to its first pod.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

TASK_LABEL = "conveyor.dev/task"


@dataclass
class PodHistory:
    name: str
    created: float  # the pod's creationTimestamp (API server clock, epoch seconds)
    labels: dict[str, str]
    annotations: dict[str, str]
    phases: list[tuple[float, str]] = field(default_factory=list)  # (local time seen, phase)
    node: str | None = None
    node_selector: dict[str, str] = field(default_factory=dict)
    deleted: bool = False
    preexisting: bool = False  # already there when recording began (e.g. a previous run's pod not yet GC'd)
    reason: str | None = None
    exit_codes: dict[str, int] = field(default_factory=dict)  # container -> exit code
    finished: dict[str, float] = field(default_factory=dict)  # container -> finishedAt (kubelet clock)

    @property
    def task(self) -> str | None:
        return self.labels.get(TASK_LABEL)

    @property
    def phase(self) -> str | None:
        return self.phases[-1][1] if self.phases else None

    @property
    def workflow(self) -> str | None:
        return self.labels.get("workflows.argoproj.io/workflow")


class PodRecorder:
    """``with PodRecorder(api, ns) as pods:`` records until the block ends."""

    def __init__(self, api: Any, namespace: str) -> None:
        self.api, self.namespace = api, namespace
        self.pods: dict[str, PodHistory] = {}
        self.max_running: dict[str, int] = {}  # task label -> most pods Running at once
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"pods-{namespace}", daemon=True)
        self._started = threading.Event()
        self.error: BaseException | None = None

    def __enter__(self) -> PodRecorder:
        self._thread.start()
        if not self._started.wait(30):
            raise TimeoutError(f"pod watch in {self.namespace} did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(1.0)  # let the last events arrive
        self._stop.set()
        self._thread.join(15)

    # -- watching --------------------------------------------------------------------------------
    def _loop(self) -> None:
        from kubernetes import client, watch

        core = client.CoreV1Api(self.api)
        version = None
        while not self._stop.is_set():
            try:
                if version is None:
                    listed = core.list_namespaced_pod(self.namespace)
                    for pod in listed.items:
                        self._see("ADDED", pod, preexisting=True)
                    version = listed.metadata.resource_version
                    self._started.set()
                w = watch.Watch()
                for event in w.stream(core.list_namespaced_pod, self.namespace, resource_version=version,
                                      timeout_seconds=2, allow_watch_bookmarks=True):
                    obj = event["object"]
                    version = obj.metadata.resource_version or version
                    if event["type"] != "BOOKMARK":
                        self._see(event["type"], obj)
                    if self._stop.is_set():
                        w.stop()
                        break
            except Exception as exc:  # noqa: BLE001 - a 410 Gone restarts from a fresh list
                if getattr(exc, "status", None) == 410:
                    version = None
                    continue
                self.error = exc
                self._started.set()
                time.sleep(0.5)

    def _see(self, kind: str, pod: Any, preexisting: bool = False) -> None:
        now = time.time()
        meta, status, spec = pod.metadata, pod.status, pod.spec
        with self._lock:
            hist = self.pods.get(meta.name)
            if hist is None:
                hist = self.pods[meta.name] = PodHistory(
                    meta.name, meta.creation_timestamp.timestamp() if meta.creation_timestamp else now,
                    dict(meta.labels or {}), dict(meta.annotations or {}), node_selector=dict(spec.node_selector or {}),
                    preexisting=preexisting)
            hist.node = spec.node_name or hist.node
            phase = status.phase if status else None
            if phase and hist.phase != phase:
                hist.phases.append((now, phase))
            if status and status.reason:
                hist.reason = status.reason
            for cs in (status.container_statuses or []) if status else []:
                if cs.state and cs.state.terminated:
                    hist.exit_codes[cs.name] = cs.state.terminated.exit_code
                    if cs.state.terminated.finished_at:
                        hist.finished[cs.name] = cs.state.terminated.finished_at.timestamp()
            if kind == "DELETED":
                hist.deleted = True
            running: dict[str, int] = {}
            for other in self.pods.values():
                if other.phase == "Running" and not other.deleted and other.task and not other.preexisting:
                    running[other.task] = running.get(other.task, 0) + 1
            for task, count in running.items():
                self.max_running[task] = max(self.max_running.get(task, 0), count)

    # -- reading ---------------------------------------------------------------------------------
    def snapshot(self) -> list[PodHistory]:
        """The pods created while recording (pods already there when it began are left out)."""
        with self._lock:
            return [p for p in self.pods.values() if not p.preexisting]

    def for_task(self, task: str) -> list[PodHistory]:
        return sorted((p for p in self.snapshot() if p.task == task), key=lambda p: p.created)

    def count_by_task(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for pod in self.snapshot():
            if pod.task:
                out[pod.task] = out.get(pod.task, 0) + 1
        return out

    def wait(self, check, timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check(self)
            if value:
                return value
            time.sleep(0.2)
        raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}; pods: "
                           f"{[(p.name, p.task, p.phase) for p in self.snapshot()]}")
