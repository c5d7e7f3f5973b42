"""What the Redis ACL tests share: a tenant's agent pod, a Python script run inside it with
`kubectl exec` (the agent's own environment, so its own Redis Secret), the tenant's Redis URL
from its Secret, and a wait on a condition."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
from collections.abc import Awaitable, Callable
from typing import Any

from kubernetes import client as k8s

from simptu.devstack.envfile import StackEnv
from simptu.operator import redis_acl
from simptu.runtime.core.tenancy import TenantNames

POD_PYTHON = "/opt/simptu/bin/python"  # the image's interpreter (Dockerfile)
TENANTS = ("simptu.io", "v1alpha1", "tenants")


def ready_agent_pod(kube: k8s.ApiClient, slug: str) -> k8s.V1Pod | None:
    pods = k8s.CoreV1Api(kube).list_namespaced_pod(
        TenantNames(slug).namespace, label_selector="app.kubernetes.io/name=agent").items
    ready = [pod for pod in pods if pod.metadata.deletion_timestamp is None and any(
        c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])]
    return ready[0] if ready else None


def run_in_pod(stack: StackEnv, pod: k8s.V1Pod, script: str, *args: str) -> Any:
    """Run `script` with the pod's interpreter and environment; its stdout, parsed as JSON."""
    done = subprocess.run(
        [stack["SIMPTU_KUBECTL"], "--kubeconfig", stack.kubeconfig, "exec", "-n",
         pod.metadata.namespace, pod.metadata.name, "-c", "agent", "--",
         POD_PYTHON, "-c", script, *args],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


ENVIRONMENT = "import json, os; print(json.dumps(dict(os.environ)))"


def namespace_text(kube: k8s.ApiClient, stack: StackEnv, pod: k8s.V1Pod) -> str:
    """Every Secret (decoded), ConfigMap and pod spec of the pod's namespace and the pod's own
    environment, as one text: where a platform credential must not appear."""
    core, namespace = k8s.CoreV1Api(kube), pod.metadata.namespace
    secrets = [{key: base64.b64decode(value).decode(errors="replace")
                for key, value in (secret.data or {}).items()}
               for secret in core.list_namespaced_secret(namespace).items]
    config_maps = [item.data for item in core.list_namespaced_config_map(namespace).items]
    pods = [kube.sanitize_for_serialization(item)
            for item in core.list_namespaced_pod(namespace).items]
    return json.dumps([secrets, config_maps, pods, run_in_pod(stack, pod, ENVIRONMENT)])


def tenant_secret(kube: k8s.ApiClient, slug: str, name: str) -> dict[str, str] | None:
    """The values of the Secret `name` in the tenant's namespace, decoded; None without one."""
    try:
        secret = k8s.CoreV1Api(kube).read_namespaced_secret(name, TenantNames(slug).namespace)
    except k8s.ApiException as error:
        if error.status == 404:
            return None
        raise
    return {key: base64.b64decode(value).decode() for key, value in (secret.data or {}).items()}


def tenant_redis_url(kube: k8s.ApiClient, slug: str) -> str | None:
    values = tenant_secret(kube, slug, redis_acl.SECRET)
    return None if values is None else values[redis_acl.URL_KEY]


def secret_annotations(kube: k8s.ApiClient, slug: str,
                       name: str = redis_acl.SECRET) -> dict[str, str]:
    secret = k8s.CoreV1Api(kube).read_namespaced_secret(name, TenantNames(slug).namespace)
    return dict(secret.metadata.annotations or {})


def annotate_tenant(kube: k8s.ApiClient, slug: str, annotations: dict[str, str]) -> None:
    """Sets the annotations: a change the operator acts on at once (not at its drift check,
    300 s on the stack, which would make these tests take over ten minutes)."""
    k8s.CustomObjectsApi(kube).patch_cluster_custom_object(
        *TENANTS, slug, {"metadata": {"annotations": annotations}})


async def until(check: Callable[[], Awaitable[bool] | bool]) -> None:
    """Polls `check` each second until it holds (the caller's timeout bounds the wait)."""
    while True:
        result = check()
        if await result if isinstance(result, Awaitable) else result:
            return
        await asyncio.sleep(1)
