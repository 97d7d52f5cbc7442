"""Small helpers for tests that drive the real cluster with the kubernetes client."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from tests.cluster.images import BUSYBOX_IMAGE

TERMINAL = {"Succeeded", "Failed"}


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
    """Poll ``check`` until it returns something truthy (exceptions count as 'not yet')."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as exc:  # the API may answer 404 until the object exists
            last = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}" + (f" (last error: {last})" if last else ""))


def run_pod(api, namespace: str, name: str, command: Sequence[str], image: str = BUSYBOX_IMAGE,
            timeout: float = 120.0) -> tuple[str, str]:
    """Run a one-shot pod to completion; return (phase, logs read through the API)."""
    from kubernetes import client

    core = client.CoreV1Api(api)
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PodSpec(
            restart_policy="Never",
            termination_grace_period_seconds=0,
            containers=[client.V1Container(name="main", image=image, image_pull_policy="Never",
                                           command=list(command))],
        ),
    )
    core.create_namespaced_pod(namespace, pod)

    def finished():
        phase = core.read_namespaced_pod(name, namespace).status.phase
        return phase if phase in TERMINAL else None

    try:
        phase = wait_for(finished, timeout, f"pod {namespace}/{name} to finish")
    except TimeoutError as exc:
        status = core.read_namespaced_pod(name, namespace).status
        events = core.list_namespaced_event(namespace, field_selector=f"involvedObject.name={name}")
        detail = "; ".join(f"{e.reason}: {e.message}" for e in events.items)
        raise TimeoutError(f"{exc}; phase={status.phase}; events: {detail}") from exc
    return phase, core.read_namespaced_pod_log(name, namespace, container="main")
