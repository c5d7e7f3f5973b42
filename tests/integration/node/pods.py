"""Pods the node's tests run: busybox (built here, never pulled) as a non-root user, on a
read-only root filesystem, with nothing to wait for when deleted."""

from __future__ import annotations

from typing import Any

from simptu.devstack.images import PROBE

NOT_ROOT = 65534


def busybox_pod(name: str, script: str, labels: dict[str, str] | None = None,
                volumes: list[dict[str, Any]] | None = None,
                **container: Any) -> dict[str, Any]:
    """A pod of one busybox container `name` running `script` under `sh -c`; `container`
    adds to it (env, ports, probes, volume mounts)."""
    return {
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {
            "terminationGracePeriodSeconds": 0,
            "volumes": volumes or [],
            "containers": [{
                "name": name, "image": PROBE.name, "imagePullPolicy": "Never",
                "command": ["/bin/busybox", "sh", "-c", script], **container,
                "securityContext": {"runAsUser": NOT_ROOT, "runAsNonRoot": True,
                                    "readOnlyRootFilesystem": True,
                                    "allowPrivilegeEscalation": False,
                                    "capabilities": {"drop": ["ALL"]}},
            }]}}
