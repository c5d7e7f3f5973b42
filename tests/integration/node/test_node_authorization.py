"""The node's credentials reach only what its pods need (kube-apiserver's Node authorizer and
NodeRestriction, no broad system:node binding), and kube-apiserver reaches the kubelet with a
client certificate of its own: `kubectl logs` and `kubectl exec` work."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from simptu.devstack.envfile import StackEnv
from simptu.devstack.settings import DevstackSettings
from tests.integration.node.pods import NOT_ROOT, busybox_pod

SETTINGS = DevstackSettings()


def _node_client(stack: StackEnv) -> k8s.CoreV1Api:
    """The API as the node: the kubelet's own kubeconfig (system:node:<name>)."""
    kubeconfig = Path(stack["SIMPTU_STATE_DIR"]) / "node" / "kubelet.kubeconfig"
    return k8s.CoreV1Api(k8s_config.new_client_from_config(config_file=str(kubeconfig)))


def _kubectl(stack: StackEnv, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([stack["SIMPTU_KUBECTL"], "--kubeconfig", stack.kubeconfig, *args],
                          capture_output=True, text=True, timeout=120, check=False)


def _pod(secret: str) -> dict[str, Any]:
    """A busybox pod that prints its Secret's length, then waits (as a non-root user)."""
    return busybox_pod("reader", 'echo "secret of ${#VALUE} bytes"; exec /bin/busybox sleep 3600',
                       env=[{"name": "VALUE", "valueFrom": {"secretKeyRef": {
                           "name": secret, "key": "value"}}}])


async def _running(core: k8s.CoreV1Api, namespace: str, name: str) -> k8s.V1Pod:
    """The pod once it runs (the test's own timeout bounds the wait)."""
    while True:
        pod = await asyncio.to_thread(core.read_namespaced_pod, name, namespace)
        if pod.status.phase == "Running":
            return pod
        await asyncio.sleep(0.5)


async def test_the_node_reads_its_pods_secrets_only_and_kubectl_reaches_the_kubelet(
        kube: k8s.ApiClient, namespace: str, stack: StackEnv) -> None:
    core = k8s.CoreV1Api(kube)
    for name in ("used", "unused"):
        core.create_namespaced_secret(namespace, {
            "metadata": {"name": name}, "stringData": {"value": f"{name} by a pod"}})
    core.create_namespaced_pod(namespace, _pod("used"))
    pod = await asyncio.wait_for(_running(core, namespace, "reader"), 120)
    assert pod.spec.node_name == SETTINGS.node_name

    node = _node_client(stack)
    used = node.read_namespaced_secret("used", namespace)
    assert used.data["value"]  # the pod's Secret: the kubelet needs it
    with pytest.raises(k8s.ApiException) as refused:
        node.read_namespaced_secret("unused", namespace)
    assert refused.value.status == 403
    with pytest.raises(k8s.ApiException) as listed:  # nor may it list every Secret
        node.list_namespaced_secret(namespace)
    assert listed.value.status == 403
    # NodeRestriction: a node may not label itself into the control plane's labels.
    with pytest.raises(k8s.ApiException) as labelled:
        node.patch_node(SETTINGS.node_name, {"metadata": {"labels": {
            "node-restriction.kubernetes.io/trusted": "true"}}})
    assert labelled.value.status == 403

    logs = _kubectl(stack, "logs", "-n", namespace, "reader")
    assert logs.returncode == 0, logs.stderr
    assert logs.stdout.strip() == f"secret of {len('used by a pod')} bytes"
    execed = _kubectl(stack, "exec", "-n", namespace, "reader", "--",
                      "/bin/busybox", "id", "-u")
    assert execed.returncode == 0, execed.stderr
    assert execed.stdout.strip() == str(NOT_ROOT)


def test_kubectl_logs_of_a_demo_tenants_agent_pod(stack: StackEnv) -> None:
    slug = "zambet-dental-cluj"
    logs = _kubectl(stack, "logs", "-n", f"tenant-{slug}", "deploy/agent")
    assert logs.returncode == 0, logs.stderr
    assert '"consuming"' in logs.stdout  # the worker's JSON line when it reads its topics
