"""The platform's image (Dockerfile, built by make up): every entrypoint answers --help in a pod
on the node, as the image's own non-root user, on a read-only root filesystem; the image says
who made it (OCI labels) and starts Python directly (exec form, no shell)."""

from __future__ import annotations

import asyncio

from kubernetes import client as k8s

from simptu.devstack.images import PLATFORM_IMAGE
from simptu.devstack.services.base import Context
from simptu.devstack.services.node import node_image_config
from simptu.devstack.settings import DevstackSettings

SETTINGS = DevstackSettings()
# Each component's module (the image's entrypoint is `python -m`), as a container name.
ENTRYPOINTS = {"api": "simptu.runtime.api", "ws": "simptu.runtime.ws",
               "agent": "simptu.runtime.agent", "channels": "simptu.runtime.channels",
               "relay": "simptu.runtime.core.events", "operator": "simptu.operator",
               "cli": "simptu.runtime"}


def test_the_image_runs_as_a_numeric_user_without_a_shell_and_is_labelled() -> None:
    config = node_image_config(Context(SETTINGS), PLATFORM_IMAGE)["config"]  # what pods run
    user = str(config["User"]).split(":")
    assert all(part.isdigit() and int(part) > 0 for part in user), user
    entrypoint = config["Entrypoint"]
    assert isinstance(entrypoint, list)
    assert entrypoint[0] == "/opt/simptu/bin/python", entrypoint  # not /bin/sh -c
    labels = config["Labels"]
    assert isinstance(labels, dict)
    for label in ("source", "revision", "version", "title"):
        assert labels.get(f"org.opencontainers.image.{label}"), labels
    assert labels["org.opencontainers.image.revision"] != "unknown"
    assert PLATFORM_IMAGE.endswith(f":{labels['org.opencontainers.image.version']}")


async def test_every_entrypoint_answers_help_on_a_read_only_root_filesystem(
        kube: k8s.ApiClient, namespace: str) -> None:
    core = k8s.CoreV1Api(kube)
    core.create_namespaced_pod(namespace, {
        "metadata": {"name": "help"},
        "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
                 "containers": [{
                     "name": name, "image": PLATFORM_IMAGE, "imagePullPolicy": "IfNotPresent",
                     "args": [module, "--help"],
                     "resources": {"limits": {"memory": "512Mi"}},
                     # The image's own user (runAsNonRoot needs it numeric), nothing writable.
                     "securityContext": {"runAsNonRoot": True, "readOnlyRootFilesystem": True,
                                         "allowPrivilegeEscalation": False,
                                         "capabilities": {"drop": ["ALL"]}},
                 } for name, module in ENTRYPOINTS.items()]}})

    async def finished() -> k8s.V1Pod:
        while True:
            pod = await asyncio.to_thread(core.read_namespaced_pod, "help", namespace)
            if pod.status.phase in ("Succeeded", "Failed"):
                return pod
            await asyncio.sleep(1)

    pod = await asyncio.wait_for(finished(), 300)
    assert pod.spec.node_name == SETTINGS.node_name
    codes = {status.name: status.state.terminated.exit_code
             for status in pod.status.container_statuses}
    logs = {name: core.read_namespaced_pod_log("help", namespace, container=name,
                                               _preload_content=False).data.decode()
            for name in ENTRYPOINTS}
    assert codes == dict.fromkeys(ENTRYPOINTS, 0), logs
    for name, text in logs.items():
        assert text.startswith("usage: "), (name, text[:500])
        assert "SIMPTU_DATABASE_URL" in text, (name, text[:2000])  # the settings it reads
