"""Launcher fixtures: real stores (SQLite + a local artifact folder by default), and a kubernetes
client double that records every call and answers ``get`` with Workflow objects a test feeds."""

from __future__ import annotations

import copy
import json
from collections import deque
from pathlib import Path
from typing import Any

import pytest

from tests.pipelines.runtime.argo_driver import Cluster


class ApiException(Exception):
    """Shaped like kubernetes.client.ApiException (status, reason, body)."""

    def __init__(self, status: int, reason: str, message: str = ""):
        super().__init__(f"({status}) {reason}")
        self.status, self.reason, self.body = status, reason, json.dumps({"message": message})


class RecordingCustomObjectsApi:
    """Same method signatures as ``kubernetes.client.CustomObjectsApi``; records calls, stores objects."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.statuses: deque[dict[str, Any]] = deque()  # what successive GETs of a Workflow report
        self.fail_create: ApiException | None = None

    def create_namespaced_custom_object(self, group, version, namespace, plural, body, **kwargs):
        self.calls.append(("create", {"group": group, "version": version, "namespace": namespace,
                                      "plural": plural, "body": copy.deepcopy(body)}))
        if self.fail_create is not None:
            raise self.fail_create
        name = body["metadata"].get("name") or body["metadata"]["generateName"] + "x1y2z"
        key = (namespace, plural, name)
        if key in self.objects:
            raise ApiException(409, "Conflict", f"{plural} {name!r} already exists")
        stored = copy.deepcopy(body)
        stored["metadata"].update(name=name, resourceVersion="1")
        self.objects[key] = stored
        return copy.deepcopy(stored)

    def get_namespaced_custom_object(self, group, version, namespace, plural, name, **kwargs):
        self.calls.append(("get", {"namespace": namespace, "plural": plural, "name": name}))
        obj = copy.deepcopy(self.objects[(namespace, plural, name)])
        if plural == "workflows" and self.statuses:
            obj["status"] = self.statuses.popleft() if len(self.statuses) > 1 else self.statuses[0]
        return obj

    def list_namespaced_custom_object(self, group, version, namespace, plural, label_selector=None, limit=None,
                                      _continue=None, **kwargs):
        """Label selectors of the forms ``key`` and ``key=value`` (comma-joined), paged by ``limit``."""
        self.calls.append(("list", {"namespace": namespace, "plural": plural, "label_selector": label_selector,
                                    "limit": limit, "continue": _continue}))
        wanted = [term.partition("=") for term in (label_selector or "").split(",") if term]
        items = []
        for (ns, kind, _name), obj in sorted(self.objects.items()):
            labels = obj["metadata"].get("labels") or {}
            if ns == namespace and kind == plural and all(
                    key in labels and (not eq or labels[key] == value) for key, eq, value in wanted):
                items.append(copy.deepcopy(obj))
        start = int(_continue or 0)
        end = len(items) if limit is None else start + limit
        return {"items": items[start:end], "metadata": {"continue": str(end) if end < len(items) else None}}

    def replace_namespaced_custom_object(self, group, version, namespace, plural, name, body, **kwargs):
        self.calls.append(("replace", {"namespace": namespace, "plural": plural, "name": name,
                                       "body": copy.deepcopy(body)}))
        self.objects[(namespace, plural, name)] = copy.deepcopy(body)
        return copy.deepcopy(body)

    def created(self, plural: str = "workflows") -> list[dict[str, Any]]:
        return [c[1]["body"] for c in self.calls if c[0] == "create" and c[1]["plural"] == plural]


class RecordingCoreV1Api:
    """``list_namespaced_pod`` / ``read_namespaced_pod_log`` with the kubernetes signatures."""

    def __init__(self, pods: dict[str, str], logs: dict[str, str]):
        self.pods, self.logs, self.calls = pods, logs, []  # node id -> pod name, pod name -> log text

    def list_namespaced_pod(self, namespace, **kwargs):
        self.calls.append(("list", namespace, kwargs.get("label_selector")))
        from kubernetes.client import V1ObjectMeta, V1Pod, V1PodList

        return V1PodList(items=[V1Pod(metadata=V1ObjectMeta(name=pod, annotations={"workflows.argoproj.io/node-id": node}))
                                for node, pod in self.pods.items()])

    def read_namespaced_pod_log(self, name, namespace, **kwargs):
        self.calls.append(("log", name, kwargs.get("container")))
        return self.logs[name]


@pytest.fixture
def kube() -> RecordingCustomObjectsApi:
    return RecordingCustomObjectsApi()


@pytest.fixture
def local_cluster(tmp_path: Path) -> Cluster:
    """Real stores on this machine: SQLite metadata and a content-addressed artifact folder."""
    return Cluster((tmp_path / "artifacts").as_uri(), f"sqlite:///{tmp_path / 'metadata.db'}", tmp_path)
