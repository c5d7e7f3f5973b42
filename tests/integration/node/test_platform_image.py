"""The platform's image (Dockerfile, built by make up): every entrypoint answers --help in a pod
on the node, as the image's own non-root user, on a read-only root filesystem; the image says
who made it (OCI labels), starts Python directly (exec form, no shell), and carries the web
builds the chart's API serves (the widget, the staff inbox and the guides' site)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import yaml
from kubernetes import client as k8s

from simptu.devstack.images import PLATFORM_IMAGE
from simptu.devstack.services.base import Context
from simptu.devstack.services.node import node_image_config
from simptu.devstack.settings import REPO_ROOT, DevstackSettings

SETTINGS = DevstackSettings()
# Where the chart's API looks for the web builds (values.yaml), and so where the image has them.
WEB = yaml.safe_load((REPO_ROOT / "charts/simptu/values.yaml").read_text())["api"]["webAssetsDir"]
# Prints the image's web folder: every file, and the manifests the API reads the builds by.
LIST_WEB = """import json, pathlib, sys
web = pathlib.Path(sys.argv[1])
print(json.dumps({"files": sorted(str(p.relative_to(web)) for p in web.rglob("*") if p.is_file()),
                  **{name: json.loads((web / name / "manifest.json").read_text())
                     for name in ("widget", "inbox")}}))"""
RESTRICTED = {"runAsNonRoot": True, "readOnlyRootFilesystem": True,
              "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
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


async def finished_pod(core: k8s.CoreV1Api, namespace: str, name: str,
                       containers: list[dict[str, Any]]) -> tuple[dict[str, int], dict[str, str]]:
    """Run a pod of the platform image's `containers` (as the image's own user: runAsNonRoot
    needs it numeric; nothing writable) to its end: each container's exit code and log."""
    core.create_namespaced_pod(namespace, {
        "metadata": {"name": name},
        "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
                 "containers": [{"image": PLATFORM_IMAGE, "imagePullPolicy": "IfNotPresent",
                                 "resources": {"limits": {"memory": "512Mi"}},
                                 "securityContext": RESTRICTED, **container}
                                for container in containers]}})

    async def finished() -> k8s.V1Pod:
        while True:
            pod = await asyncio.to_thread(core.read_namespaced_pod, name, namespace)
            if pod.status.phase in ("Succeeded", "Failed"):
                return pod
            await asyncio.sleep(1)

    pod = await asyncio.wait_for(finished(), 300)
    assert pod.spec.node_name == SETTINGS.node_name
    codes = {status.name: status.state.terminated.exit_code
             for status in pod.status.container_statuses}
    logs = {status.name: core.read_namespaced_pod_log(name, namespace, container=status.name,
                                                      _preload_content=False).data.decode()
            for status in pod.status.container_statuses}
    return codes, logs


async def test_every_entrypoint_answers_help_on_a_read_only_root_filesystem(
        kube: k8s.ApiClient, namespace: str) -> None:
    codes, logs = await finished_pod(k8s.CoreV1Api(kube), namespace, "help", [
        {"name": name, "args": [module, "--help"]} for name, module in ENTRYPOINTS.items()])
    assert codes == dict.fromkeys(ENTRYPOINTS, 0), logs
    for name, text in logs.items():
        assert text.startswith("usage: "), (name, text[:500])
        assert "SIMPTU_DATABASE_URL" in text, (name, text[:2000])  # the settings it reads


async def test_the_image_carries_the_widget_the_inbox_and_the_guides_for_the_api(
        kube: k8s.ApiClient, namespace: str) -> None:
    codes, logs = await finished_pod(k8s.CoreV1Api(kube), namespace, "web", [
        {"name": "web", "command": ["/opt/simptu/bin/python", "-c", LIST_WEB, WEB]}])
    assert codes == {"web": 0}, logs
    web = json.loads(logs["web"])
    files = set(web["files"])
    # The widget's launcher and chat module, as its manifest names them (routes/widget.py).
    assert {f"widget/{web['widget']['loader']}", f"widget/{web['widget']['chat']}"} <= files
    # The inbox's entry script and stylesheets, from Vite's manifest (routes/inbox.py).
    entry = next(chunk for chunk in web["inbox"].values() if chunk.get("isEntry"))
    assert {f"inbox/{name}" for name in [entry["file"], *entry.get("css", [])]} <= files
    # The guides' site: its home page and MkDocs' search index.
    assert {"guides/index.html", "guides/search/search_index.json"} <= files
    # Nothing but the three builds (no sources, no node_modules).
    assert {name.split("/")[0] for name in files} == {"widget", "inbox", "guides"}
