"""With `topics_backend: strimzi` the operator declares KafkaTopic resources for Strimzi to
create, and counts the topics ready only once Kafka really has them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from kubernetes import client as k8s

from simptu.devstack.envfile import StackEnv
from simptu.operator import kafka
from simptu.operator.kube_objects import KubeObjects
from simptu.runtime.core.events.topics import (
    TopicSettings,
    ensure_tenant_topics,
    kafka_admin,
    remove_tenant_topics,
)
from simptu.runtime.core.tenancy import TenantNames


def strimzi_objects(kube: k8s.ApiClient, namespace: str,
                    plural: str = "kafkatopics") -> list[dict[str, Any]]:
    """The Strimzi resources of a kind (`kafkatopics`, `kafkausers`) in the namespace."""
    found = k8s.CustomObjectsApi(kube).list_namespaced_custom_object(
        "kafka.strimzi.io", "v1", namespace, plural)
    assert isinstance(found, dict)
    return list(found["items"])


async def test_kafka_topics_are_declared_and_ready_only_when_they_exist(
    stack: StackEnv, kube: k8s.ApiClient, namespace: str, strimzi_crds: tuple[str, ...],
    unique: str,
) -> None:
    backend = kafka.TopicBackend(kafka=stack.kafka, kind="strimzi",
                                 strimzi_cluster="simptu", strimzi_namespace=namespace)
    tenant = TenantNames(f"{unique}-gym")
    settings = TopicSettings(partitions=4, replication=1, retention=dt.timedelta(hours=48))
    try:
        await kafka.ensure(backend, KubeObjects(kube), tenant, settings)
        declared = strimzi_objects(kube, namespace)
        by_name = {item["metadata"]["name"]: item for item in declared}
        inbound = by_name[tenant.topic("inbound")]
        assert inbound["metadata"]["labels"]["strimzi.io/cluster"] == "simptu"
        assert inbound["spec"]["partitions"] == 4
        assert inbound["spec"]["config"] == {"retention.ms": str(48 * 3600 * 1000)}
        # No Strimzi here: nothing made the topics yet, so they are not ready.
        problem = await kafka.check(backend, tenant, settings)
        assert problem is not None
        assert problem.startswith("missing topics")
        async with kafka_admin(stack.kafka) as admin:  # what Strimzi would do
            await ensure_tenant_topics(admin, tenant, settings)
        assert await kafka.check(backend, tenant, settings) is None
        await kafka.remove(backend, KubeObjects(kube), tenant)
        assert strimzi_objects(kube, namespace) == []
    finally:
        async with kafka_admin(stack.kafka) as admin:
            await remove_tenant_topics(admin, tenant)


@pytest.mark.parametrize("version", ["v1", "v1beta2"])
def test_the_strimzi_api_version_is_selectable(version: str) -> None:
    backend = kafka.TopicBackend(kafka="unused", kind="strimzi", strimzi_api_version=version)
    body = kafka.kafka_topic(backend, TenantNames("gym"), "simptu.gym.inbound", TopicSettings())
    assert body["apiVersion"] == f"kafka.strimzi.io/{version}"
