"""The stack's node: registered and Ready, runs pods from locally built images (never pulled)
on the pod bridge, where the host reaches them on their own addresses."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from kubernetes import client as k8s

from simptu.devstack.services.node import node_ip
from simptu.devstack.settings import DevstackSettings
from simptu.devstack.toolchain.tools import KUBE_VERSION
from tests.integration.node.pods import busybox_pod

SETTINGS = DevstackSettings()


def _web_pod(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    """busybox httpd serving a page that names the pod, as a non-root user."""
    return busybox_pod(
        name, "echo \"hello from $HOSTNAME\" > /www/index.html"
        " && exec /bin/busybox httpd -f -p 8080 -h /www", labels,
        volumes=[{"name": "www", "emptyDir": {}}],
        volumeMounts=[{"name": "www", "mountPath": "/www"}],
        ports=[{"containerPort": 8080}],
        readinessProbe={"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1})


async def _ready_pod(core: k8s.CoreV1Api, namespace: str, selector: str) -> k8s.V1Pod:
    """The first Ready pod matching `selector` (the test's own timeout bounds the wait)."""
    while True:
        pods = (await asyncio.to_thread(core.list_namespaced_pod, namespace,
                                        label_selector=selector)).items
        for pod in pods:
            conditions = pod.status.conditions or []
            if pod.metadata.deletion_timestamp is None and any(
                    c.type == "Ready" and c.status == "True" for c in conditions):
                return pod
        await asyncio.sleep(0.5)


def test_the_node_is_registered_ready_and_runs_the_pinned_kubelet(kube: k8s.ApiClient) -> None:
    node = k8s.CoreV1Api(kube).read_node(SETTINGS.node_name)
    ready = {c.type: c.status for c in node.status.conditions}
    assert ready["Ready"] == "True"
    assert ready["DiskPressure"] == "False"
    assert node.status.node_info.kubelet_version == f"v{KUBE_VERSION}"
    assert node.status.node_info.container_runtime_version.startswith("containerd://1.6")
    addresses = {a.type: a.address for a in node.status.addresses}
    assert addresses["InternalIP"] == node_ip(SETTINGS)
    assert not node.spec.taints


async def test_a_pod_of_a_local_image_becomes_ready_and_serves_on_its_address(
        kube: k8s.ApiClient, namespace: str) -> None:
    core = k8s.CoreV1Api(kube)
    core.create_namespaced_pod(namespace, _web_pod("web", {"app": "web"}))
    pod = await asyncio.wait_for(_ready_pod(core, namespace, "app=web"), 120)
    assert pod.spec.node_name == SETTINGS.node_name
    assert pod.status.pod_ip.startswith(SETTINGS.pod_cidr.rsplit(".", 2)[0])
    async with httpx.AsyncClient(timeout=5) as client:
        page = await client.get(f"http://{pod.status.pod_ip}:8080/")
    assert page.text.strip() == "hello from web"


async def test_a_deployment_replaces_a_deleted_pod(kube: k8s.ApiClient, namespace: str) -> None:
    core, apps = k8s.CoreV1Api(kube), k8s.AppsV1Api(kube)
    labels = {"app": "web"}
    apps.create_namespaced_deployment(namespace, {
        "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                 "template": {**_web_pod("web", labels), "metadata": {"labels": labels}}}})
    first = await asyncio.wait_for(_ready_pod(core, namespace, "app=web"), 120)
    core.delete_namespaced_pod(first.metadata.name, namespace, grace_period_seconds=0)

    async def replacement() -> k8s.V1Pod:
        while True:
            pod = await _ready_pod(core, namespace, "app=web")
            if pod.metadata.name != first.metadata.name:
                return pod
            await asyncio.sleep(0.5)

    second = await asyncio.wait_for(replacement(), 120)
    async with httpx.AsyncClient(timeout=5) as client:
        page = await client.get(f"http://{second.status.pod_ip}:8080/")
    assert page.text.strip() == f"hello from {second.metadata.name}"
