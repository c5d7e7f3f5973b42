"""A tenant's Kafka topics: created with Kafka's admin API, or declared as Strimzi `KafkaTopic`
resources when the platform runs on Strimzi. Either way a tenant's topics count as ready only
when Kafka really has them."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from simptu.operator.kube_objects import KubeObjects
from simptu.operator.workloads import TenantSecret, rolled_out
from simptu.runtime.core.events.kafka_users import (
    OPERATION_NAMES,
    PREFIXED,
    TOPIC,
    KafkaSecurityError,
    delete_user,
    ensure_tenant_user,
    granted,
    new_password,
    tenant_grants,
    tenant_user,
    tenant_users,
)
from simptu.runtime.core.events.topics import (
    TopicSettings,
    check_tenant_topics,
    ensure_tenant_topics,
    kafka_admin,
    remove_tenant_topics,
    tenant_topics,
)
from simptu.runtime.core.kafka_access import KafkaAccess, kafka_access
from simptu.runtime.core.tenancy import TenantNames


@dataclass(frozen=True)
class TopicBackend:
    """Where topics come from: `kafka` (admin API) or `strimzi` (KafkaTopic resources)."""

    kafka: KafkaAccess | str
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
        async with kafka_admin(backend.kafka) as admin:
            await ensure_tenant_topics(admin, tenant, settings)
    return tenant_topics(tenant)


async def check(backend: TopicBackend, tenant: TenantNames, settings: TopicSettings) -> str | None:
    """None when Kafka has every topic as specified, else what is missing or different."""
    async with kafka_admin(backend.kafka) as admin:
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
    async with kafka_admin(backend.kafka) as admin:
        await remove_tenant_topics(admin, tenant)


# A tenant's Kafka user: a SCRAM credential and ACLs on its own topics and consumer group
# (kafka_users.tenant_grants), or a Strimzi KafkaUser saying the same; its login in the Secret
# `agent-kafka` of the tenant's namespace, which the agent Deployment reads. Kafka holds one
# SCRAM credential per user and mechanism, so a rotation moves to the tenant's other user
# (kafka_users.tenant_users) with a new password: the pods of the previous template keep logging
# in (also when they reconnect) until the Deployment has rolled, and only then is that user
# removed.
__all__ = ["KafkaSecurityError", "KafkaUser", "TopicBackend"]
USER_SECRET = "agent-kafka"  # noqa: S105 - a Secret's name
ROTATION = "simptu.io/kafka-password-rotation"  # any new value on the Tenant: a new password
RETIRING = "simptu.io/kafka-retiring-user"  # on the Secret: the user the previous pods had


@dataclass(frozen=True)
class KafkaUser:
    """What the operator gave the tenant's agent: its user, password and the rotation the
    password belongs to (the Tenant's `ROTATION` annotation when it was made), and the user
    it replaced while pods of the previous template may still use it."""

    name: str
    password: str
    rotation: str
    retiring: str | None = None

    def secret(self, mechanism: str) -> TenantSecret:
        annotations = {ROTATION: self.rotation, **({RETIRING: self.retiring}
                                                   if self.retiring else {})}
        return TenantSecret(USER_SECRET, {"SIMPTU_KAFKA_SASL_MECHANISM": mechanism,
                                          "SIMPTU_KAFKA_USERNAME": self.name,
                                          "SIMPTU_KAFKA_PASSWORD": self.password},
                            annotations=annotations)


def users_enabled(backend: TopicBackend) -> bool:
    """Users exist only on a broker with SASL listeners (the operator logs in to it)."""
    return bool(kafka_access(backend.kafka).mechanism)


async def ensure_user(backend: TopicBackend, objects: KubeObjects, tenant: TenantNames,
                      rotation: str) -> KafkaUser:
    """Create or repair the tenant's user; its other user with a new password when `rotation`
    changed; the user being retired removed once the Deployment has rolled. Credentials are set
    before the Secret changes, so every pod can log in at every moment."""
    user, retired = await _wanted_user(objects, tenant, rotation)
    access = kafka_access(backend.kafka)
    if backend.kind == "strimzi":
        await objects.apply(strimzi_user(backend, tenant, user))
        if retired is not None:
            await objects.delete(strimzi_user(backend, tenant, KafkaUser(retired, "", "")))
        return user
    async with kafka_admin(access) as admin:
        await ensure_tenant_user(admin, tenant, user.password, access.mechanism, user.name)
        if retired is not None:
            await delete_user(admin, retired, access.mechanism)
    return user


async def check_user(backend: TopicBackend, tenant: TenantNames, user: KafkaUser) -> str | None:
    """None when the broker holds exactly the tenant's ACLs for its users, else what differs."""
    if backend.kind == "strimzi":
        return None  # Strimzi's User Operator applies the KafkaUser's ACLs
    wanted = set(tenant_grants(tenant))
    async with kafka_admin(backend.kafka) as admin:
        for name in (user.name, *([user.retiring] if user.retiring else [])):
            held = await granted(admin, name)
            if held != wanted:
                return f"Kafka user {name} has ACLs {sorted(held)}, want {sorted(wanted)}"
    return None


async def remove_user(backend: TopicBackend, objects: KubeObjects, tenant: TenantNames) -> None:
    """The tenant's credentials and ACLs (or its KafkaUsers): nothing of it can log in after."""
    if not users_enabled(backend):
        return
    if backend.kind == "strimzi":
        for name in tenant_users(tenant):
            await objects.delete(strimzi_user(backend, tenant, KafkaUser(name, "", "")))
        return
    access = kafka_access(backend.kafka)
    async with kafka_admin(access) as admin:
        for name in tenant_users(tenant):
            await delete_user(admin, name, access.mechanism)


async def _wanted_user(objects: KubeObjects, tenant: TenantNames,
                       rotation: str) -> tuple[KafkaUser, str | None]:
    """The user the Secret must name, and a user of the tenant's to remove now."""
    first, second = tenant_users(tenant)
    stored = await _stored_user(objects, tenant)
    if stored is None:  # a new tenant, or its Secret deleted: whatever the other user was, goes
        return KafkaUser(first, new_password(), rotation), second
    if stored.rotation != rotation:
        other = second if stored.name == first else first
        return KafkaUser(other, new_password(), rotation, retiring=stored.name), None
    if stored.retiring is not None and await rolled_out(objects, tenant):
        return dataclasses.replace(stored, retiring=None), stored.retiring
    return stored, None


async def _stored_user(objects: KubeObjects, tenant: TenantNames) -> KafkaUser | None:
    """The login in the tenant's Secret, or None without one (or one that names no user of
    this tenant's)."""
    found = await objects.get({"apiVersion": "v1", "kind": "Secret", "metadata": {
        "name": USER_SECRET, "namespace": tenant.namespace}})
    data = (found or {}).get("data") or {}
    if found is None or "SIMPTU_KAFKA_PASSWORD" not in data:
        return None
    values = {key: base64.b64decode(value).decode() for key, value in data.items()}
    # Secrets of earlier operators name no user: theirs was the first.
    name = values.get("SIMPTU_KAFKA_USERNAME") or tenant_user(tenant)
    if name not in tenant_users(tenant):
        return None
    annotations = found["metadata"].get("annotations") or {}
    retiring = annotations.get(RETIRING)
    return KafkaUser(name, values["SIMPTU_KAFKA_PASSWORD"], annotations.get(ROTATION, ""),
                     retiring if retiring in tenant_users(tenant) else None)


def strimzi_user(backend: TopicBackend, tenant: TenantNames,
                  user: KafkaUser) -> list[dict[str, Any]]:
    """A Strimzi KafkaUser with the same ACLs, its password from a Secret beside it (Strimzi
    reads `valueFrom` in the KafkaUser's namespace), so the operator knows it for the agent."""
    meta = {"namespace": backend.strimzi_namespace,
            "labels": {"strimzi.io/cluster": backend.strimzi_cluster,
                       "simptu.io/tenant": tenant.slug}}
    password_secret = f"{user.name}-password"
    acls = [{"resource": {"type": "topic" if g.resource_type == TOPIC else "group",
                          "name": g.name,
                          "patternType": "prefix" if g.pattern == PREFIXED else "literal"},
             "operations": [OPERATION_NAMES[g.operation]], "host": "*"}
            for g in tenant_grants(tenant)]
    return [
        {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
         "metadata": {**meta, "name": password_secret}, "stringData": {"password": user.password}},
        {"apiVersion": f"kafka.strimzi.io/{backend.strimzi_api_version}", "kind": "KafkaUser",
         "metadata": {**meta, "name": user.name},
         "spec": {"authentication": {"type": "scram-sha-512", "password": {"valueFrom": {
             "secretKeyRef": {"name": password_secret, "key": "password"}}}},
                  "authorization": {"type": "simple", "acls": acls}}},
    ]
