"""A tenant's Kafka topics: created with Kafka's admin API, or declared as Strimzi `KafkaTopic`
resources when the platform runs on Strimzi. Either way a tenant's topics count as ready only
when Kafka really has them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from simptu.operator.kube_objects import KubeObjects
from simptu.runtime.core.events.topics import (
    TopicSettings,
    check_tenant_topics,
    ensure_tenant_topics,
    kafka_admin,
    remove_tenant_topics,
    tenant_topics,
)
from simptu.runtime.core.tenancy import TenantNames


@dataclass(frozen=True)
class TopicBackend:
    """Where topics come from: `kafka` (admin API) or `strimzi` (KafkaTopic resources)."""

    bootstrap: str
    kind: str = "kafka"
    strimzi_cluster: str = "simptu"
    strimzi_namespace: str = "kafka"
    strimzi_api_version: str = "v1"


def topic_settings(partitions: int, replication: int, retention_hours: int) -> TopicSettings:
    return TopicSettings(partitions=partitions, replication=replication,
                         retention=dt.timedelta(hours=retention_hours))


def kafka_topic(backend: TopicBackend, tenant: TenantNames, topic: str,
                settings: TopicSettings) -> dict[str, Any]:
    """One Strimzi KafkaTopic, named after the topic it declares."""
    return {
        "apiVersion": f"kafka.strimzi.io/{backend.strimzi_api_version}", "kind": "KafkaTopic",
        "metadata": {"name": topic, "namespace": backend.strimzi_namespace,
                     "labels": {"strimzi.io/cluster": backend.strimzi_cluster,
                                "simptu.io/tenant": tenant.slug}},
        "spec": {"topicName": topic, "partitions": settings.partitions,
                 "replicas": settings.replication, "config": settings.configs},
    }


def _kafka_topics(backend: TopicBackend, tenant: TenantNames,
                  settings: TopicSettings) -> list[dict[str, Any]]:
    return [kafka_topic(backend, tenant, topic, settings) for topic in tenant_topics(tenant)]


async def ensure(backend: TopicBackend, objects: KubeObjects, tenant: TenantNames,
                 settings: TopicSettings) -> list[str]:
    """Declare or create the tenant's topics; returns their names."""
    if backend.kind == "strimzi":
        await objects.apply(_kafka_topics(backend, tenant, settings))
    else:
        async with kafka_admin(backend.bootstrap) as admin:
            await ensure_tenant_topics(admin, tenant, settings)
    return tenant_topics(tenant)


async def check(backend: TopicBackend, tenant: TenantNames, settings: TopicSettings) -> str | None:
    """None when Kafka has every topic as specified, else what is missing or different."""
    async with kafka_admin(backend.bootstrap) as admin:
        report = await check_tenant_topics(admin, tenant, settings)
    if report.missing:
        return f"missing topics: {', '.join(report.missing)}"
    if report.drift:
        return "; ".join(f"{topic}: {', '.join(what)}" for topic, what in report.drift.items())
    return None


async def remove(backend: TopicBackend, objects: KubeObjects, tenant: TenantNames) -> None:
    if backend.kind == "strimzi":
        await objects.delete(_kafka_topics(backend, tenant, TopicSettings()))
        return
    async with kafka_admin(backend.bootstrap) as admin:
        await remove_tenant_topics(admin, tenant)
