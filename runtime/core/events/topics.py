"""A tenant's Kafka topics (`simptu.<slug>.inbound|outbound|events`): ensure, check and remove
them through Kafka's admin API, as the operator does when it provisions a tenant."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError, UnknownTopicOrPartitionError, for_code

from simptu.runtime.core.kafka_access import KafkaAccess, kafka_access
from simptu.runtime.core.tenancy import TenantNames

STREAMS = ("inbound", "outbound", "events")
ADMIN_TIMEOUT_MS = 30_000
LEADER_CHECKS, LEADER_CHECK_PAUSE = 600, 0.05


class TopicError(RuntimeError):
    """Kafka refused to create, change or delete a topic; the message names it and says why."""


@dataclass(frozen=True)
class TopicSettings:
    """How a tenant's topics are made (the operator reads these from the Tenant spec)."""

    partitions: int = 6
    replication: int = 1
    retention: dt.timedelta = dt.timedelta(days=7)

    @property
    def configs(self) -> dict[str, str]:
        """Every topic-level override we own; applying it replaces any other override."""
        return {"retention.ms": str(int(self.retention.total_seconds() * 1000))}


@dataclass(frozen=True)
class TopicReport:
    """What `check_topics` found: topics that are missing, and how existing ones differ."""

    missing: list[str] = field(default_factory=list)
    drift: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.drift


def tenant_topics(tenant: TenantNames) -> list[str]:
    return [tenant.topic(stream) for stream in STREAMS]


def tenant_of_topic(topic: str) -> str | None:
    """The slug in `simptu.<slug>.<stream>`, or None for a topic that is not a tenant's."""
    parts = topic.split(".")
    if len(parts) == 3 and parts[0] == "simptu" and parts[2] in STREAMS:
        return parts[1]
    return None


@asynccontextmanager
async def kafka_admin(kafka: KafkaAccess | str) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(**kafka_access(kafka).client_options(), client_id="simptu-topics",
                                request_timeout_ms=ADMIN_TIMEOUT_MS)
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


async def ensure_topics(admin: AIOKafkaAdminClient, names: list[str],
                        settings: TopicSettings) -> list[str]:
    """Create the missing topics and reset the retention of existing ones; idempotent.

    Returns the topics created now. The partition count of an existing topic is never changed
    here: that would move keys to other partitions and break per-key order (`check_topics`
    reports it instead).
    """
    new = [NewTopic(name, settings.partitions, settings.replication,
                    topic_configs=settings.configs) for name in names]
    response = await admin.create_topics(new, timeout_ms=ADMIN_TIMEOUT_MS)
    created, existing = [], []
    for item in response.to_object()["topic_errors"]:
        if item["error_code"] == 0:
            created.append(item["topic"])
        elif item["error_code"] == TopicAlreadyExistsError.errno:
            existing.append(item["topic"])
        else:
            raise _topic_error("create", item)
    retentions = await _retentions(admin, existing)
    wanted = settings.configs["retention.ms"]
    drifted = [name for name in existing if retentions.get(name) != wanted]
    await _reset_configs(admin, drifted, settings)
    await _wait_for_retention(admin, drifted, wanted)
    await _wait_for_leaders(admin, names)
    return created


async def check_topics(admin: AIOKafkaAdminClient, names: list[str],
                       settings: TopicSettings) -> TopicReport:
    """Compare the topics with `settings`: which are missing, which have drifted and how."""
    if not names:
        return TopicReport()
    described = {item["topic"]: item for item in await admin.describe_topics(names)}
    missing = [name for name in names
               if name not in described or described[name]["error_code"] != 0]
    present = [name for name in names if name not in missing]
    drift: dict[str, list[str]] = {}
    retentions = await _retentions(admin, present)
    for name in present:
        found = _drift(described[name], retentions.get(name), settings)
        if found:
            drift[name] = found
    return TopicReport(missing=missing, drift=drift)


async def delete_topics(admin: AIOKafkaAdminClient, names: list[str]) -> list[str]:
    """Delete the topics that exist; returns those deleted now. Idempotent."""
    if not names:
        return []
    response = await admin.delete_topics(names, timeout_ms=ADMIN_TIMEOUT_MS)
    deleted = []
    for item in response.to_object()["topic_error_codes"]:
        if item["error_code"] == 0:
            deleted.append(item["topic"])
        elif item["error_code"] != UnknownTopicOrPartitionError.errno:
            raise _topic_error("delete", item)
    await _wait_until_gone(admin, deleted)
    return deleted


async def ensure_tenant_topics(admin: AIOKafkaAdminClient, tenant: TenantNames,
                               settings: TopicSettings) -> list[str]:
    return await ensure_topics(admin, tenant_topics(tenant), settings)


async def check_tenant_topics(admin: AIOKafkaAdminClient, tenant: TenantNames,
                              settings: TopicSettings) -> TopicReport:
    return await check_topics(admin, tenant_topics(tenant), settings)


async def remove_tenant_topics(admin: AIOKafkaAdminClient, tenant: TenantNames) -> list[str]:
    return await delete_topics(admin, tenant_topics(tenant))


async def _wait_for_leaders(admin: AIOKafkaAdminClient, names: list[str]) -> None:
    """Return once every partition has a leader, so the first produce or fetch succeeds."""
    if not names:
        return
    for _ in range(LEADER_CHECKS):
        described = await admin.describe_topics(names)
        if all(item["error_code"] == 0 and item["partitions"]
               and all(p["leader"] >= 0 for p in item["partitions"]) for item in described):
            return
        await asyncio.sleep(LEADER_CHECK_PAUSE)
    raise TopicError(f"topics {names} have partitions without a leader after "
                     f"{LEADER_CHECKS * LEADER_CHECK_PAUSE:.0f}s")


async def _wait_for_retention(admin: AIOKafkaAdminClient, names: list[str],
                              wanted: str) -> None:
    """Return once the brokers describe the new retention: with KRaft the controller applies
    a change and the brokers learn it from the metadata log a moment later, so a check right
    after `alter_configs` could still report the old value as drift."""
    for _ in range(LEADER_CHECKS):
        retentions = await _retentions(admin, names)
        if all(retentions.get(name) == wanted for name in names):
            return
        await asyncio.sleep(LEADER_CHECK_PAUSE)
    raise TopicError(f"topics {names} do not show retention.ms {wanted} "
                     f"{LEADER_CHECKS * LEADER_CHECK_PAUSE:.0f}s after it was set")


async def _wait_until_gone(admin: AIOKafkaAdminClient, names: list[str]) -> None:
    """Return once no broker describes the topics any more: Kafka deletes in the background,
    and a check (or a create of the same name) right after would still find them."""
    for _ in range(LEADER_CHECKS):
        if not names or all(item["error_code"] == UnknownTopicOrPartitionError.errno
                            for item in await admin.describe_topics(names)):
            return
        await asyncio.sleep(LEADER_CHECK_PAUSE)
    raise TopicError(f"topics {names} still exist {LEADER_CHECKS * LEADER_CHECK_PAUSE:.0f}s "
                     "after their deletion")


def _drift(described: dict[str, Any], retention: str | None,
           settings: TopicSettings) -> list[str]:
    partitions = described["partitions"]
    replication = min((len(p["replicas"]) for p in partitions), default=0)
    found = []
    if len(partitions) != settings.partitions:
        found.append(f"partitions {len(partitions)}, want {settings.partitions}")
    if replication != settings.replication:
        found.append(f"replication {replication}, want {settings.replication}")
    if retention != settings.configs["retention.ms"]:
        found.append(f"retention.ms {retention}, want {settings.configs['retention.ms']}")
    return found


async def _retentions(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, str]:
    if not names:
        return {}
    resources = [ConfigResource(ConfigResourceType.TOPIC, name, {"retention.ms": None})
                 for name in names]
    found = {}
    for response in await admin.describe_configs(resources):
        for resource in response.to_object()["resources"]:
            for entry in resource["config_entries"]:
                found[resource["resource_name"]] = entry["config_value"]
    return found


async def _reset_configs(admin: AIOKafkaAdminClient, names: list[str],
                         settings: TopicSettings) -> None:
    if not names:
        return
    resources = [ConfigResource(ConfigResourceType.TOPIC, name, settings.configs)
                 for name in names]
    for response in await admin.alter_configs(resources):
        for resource in response.to_object()["resources"]:
            if resource["error_code"]:
                raise _topic_error("configure", {"topic": resource["resource_name"], **resource})


def _topic_error(action: str, item: dict[str, Any]) -> TopicError:
    error = for_code(item["error_code"])
    message = item.get("error_message") or error.__name__
    return TopicError(f"could not {action} topic {item['topic']!r}: {message}")
