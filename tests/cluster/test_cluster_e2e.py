"""The test cluster is real: a Ready node running real pods, reachable the ways Argo needs.

Each test runs pods of a locally built busybox image on the real kubelet and
checks what only a working cluster can produce: logs read back through the API
server (kubelet -> containerd -> runc), a TCP exchange with a server on the
bridge gateway, and an authenticated call to the API server through the
``kubernetes`` Service ClusterIP (kube-proxy's iptables rules), which is how
Argo's executor reaches the API from a pod.
"""

from __future__ import annotations

import re
import socket
import threading
import uuid

import pytest

from tests.cluster import pins
from tests.cluster.kube import run_pod

pytestmark = pytest.mark.e2e


def test_node_is_ready_with_the_pinned_versions(cluster):
    from kubernetes import client

    node = client.CoreV1Api(cluster.api).read_node(cluster.info.node_name)
    ready = {c.type: c.status for c in node.status.conditions}
    assert ready["Ready"] == "True", node.status.conditions
    assert node.status.node_info.kubelet_version == pins.KUBERNETES.version
    assert node.status.node_info.container_runtime_version == f"containerd://{pins.CONTAINERD.version.lstrip('v')}"
    assert {a.address for a in node.status.addresses if a.type == "InternalIP"} == {cluster.gateway}
    version = client.VersionApi(cluster.api).get_code()
    assert version.git_version == pins.KUBERNETES.version


def test_pod_stdout_comes_back_through_the_api(cluster, namespace):
    token = uuid.uuid4().hex
    phase, logs = run_pod(cluster.api, namespace, "hello", ["sh", "-c", f"echo hello-{token}; echo line-two"])
    assert phase == "Succeeded"
    assert logs.splitlines() == [f"hello-{token}", "line-two"]


def test_failing_pod_reports_failed(cluster, namespace):
    phase, logs = run_pod(cluster.api, namespace, "fails", ["sh", "-c", "echo about-to-fail; exit 3"])
    assert (phase, logs.strip()) == ("Failed", "about-to-fail")


def test_pod_reaches_a_tcp_server_on_the_bridge_gateway(cluster, namespace):
    token = uuid.uuid4().hex
    received: list[bytes] = []
    server = socket.create_server((cluster.gateway, 0))
    port = server.getsockname()[1]

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            received.append(conn.recv(1024))
            conn.sendall(f"reply-{token}\n".encode())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        phase, logs = run_pod(cluster.api, namespace, "tcp",
                              ["sh", "-c", f"echo ping-{token} | nc -w 5 {cluster.gateway} {port}"])
    finally:
        server.close()
    thread.join(5)
    assert phase == "Succeeded", logs
    assert received == [f"ping-{token}\n".encode()]
    assert logs.strip() == f"reply-{token}"


def test_pod_calls_the_api_server_through_the_kubernetes_service(cluster, namespace):
    sa = "/var/run/secrets/kubernetes.io/serviceaccount"
    script = (
        'echo "vip=$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT"; '
        f'cat {sa}/namespace; echo; '
        f'wget -q -O - --no-check-certificate --header "Authorization: Bearer $(cat {sa}/token)" '
        '"https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/version"; echo; '
        # Only an authenticated caller may ask who it is: this proves the pod's token works too.
        f'wget -q -O - --no-check-certificate --header "Authorization: Bearer $(cat {sa}/token)" '
        '--header "Content-Type: application/json" '
        """--post-data '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}' """
        '"https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/apis/authentication.k8s.io/v1/selfsubjectreviews"'
    )
    phase, logs = run_pod(cluster.api, namespace, "svc", ["sh", "-c", script])
    assert phase == "Succeeded", logs
    lines = logs.splitlines()
    assert lines[0] == f"vip={cluster.info.service_vip}:443"
    assert lines[1] == namespace
    assert f'"gitVersion": "{pins.KUBERNETES.version}"' in logs
    assert re.search(rf'"username":\s*"system:serviceaccount:{namespace}:default"', logs), logs
