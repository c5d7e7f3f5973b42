"""A live Deployment's strategy type changes by the operator's apply (RollingUpdate <-> Recreate):
server-side apply alone is refused (422) while the defaulted rollingUpdate stays, so the operator
patches the type, then applies again."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes.dynamic.exceptions import UnprocessibleEntityError

from simptu.operator.kube_objects import KubeObjects


def _deployment(namespace: str, strategy: str) -> dict[str, Any]:
    labels = {"app": "strategy"}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "strategy", "namespace": namespace},
            "spec": {"replicas": 0, "selector": {"matchLabels": labels},
                     "strategy": {"type": strategy},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                         {"name": "c", "image": "simptu.local/none:0", "args": [strategy]}]}}}}


async def test_the_strategy_type_of_a_live_deployment_changes_both_ways(
        kube: k8s.ApiClient, namespace: str) -> None:
    objects, apps = KubeObjects(kube), k8s.AppsV1Api(kube)
    await objects.apply([_deployment(namespace, "RollingUpdate")])
    live = apps.read_namespaced_deployment("strategy", namespace)
    assert live.spec.strategy.type == "RollingUpdate"
    assert live.spec.strategy.rolling_update is not None  # defaulted by the API server

    await objects.apply([_deployment(namespace, "Recreate")])
    live = apps.read_namespaced_deployment("strategy", namespace)
    assert live.spec.strategy.type == "Recreate"
    assert live.spec.strategy.rolling_update is None
    # The rest of the body was applied after the patch.
    assert live.spec.template.spec.containers[0].args == ["Recreate"]

    await objects.apply([_deployment(namespace, "RollingUpdate")])
    live = apps.read_namespaced_deployment("strategy", namespace)
    assert live.spec.strategy.type == "RollingUpdate"
    assert live.spec.template.spec.containers[0].args == ["RollingUpdate"]


async def test_other_refusals_are_not_patched_away(kube: k8s.ApiClient, namespace: str) -> None:
    objects = KubeObjects(kube)
    invalid = _deployment(namespace, "Recreate")
    invalid["spec"]["replicas"] = -1
    with pytest.raises(UnprocessibleEntityError):
        await objects.apply([invalid])
