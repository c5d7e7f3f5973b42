"""A private SASL/SCRAM Kafka (sasl_kafka.py) for the credential tests, one per session, and
two tenants on it, each with its topics, Kafka user and ACLs as the operator makes them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from simptu.runtime.core.events import kafka_users
from simptu.runtime.core.events.topics import TopicSettings, ensure_tenant_topics, kafka_admin
from simptu.runtime.core.kafka_access import KafkaAccess
from simptu.runtime.core.tenancy import TenantNames
from tests.integration.credentials.sasl_kafka import SaslKafka, sasl_kafka


@dataclass(frozen=True)
class KafkaTenant:
    names: TenantNames
    access: KafkaAccess  # its user's login

    @property
    def group(self) -> str:
        return kafka_users.agent_group(self.names)


@pytest.fixture(scope="session")
async def sasl_broker() -> AsyncIterator[SaslKafka]:
    async with sasl_kafka() as broker:
        yield broker


async def make_kafka_tenant(broker: SaslKafka, slug: str) -> KafkaTenant:
    """Topics, user and ACLs of a tenant, as the operator's Kafka backend makes them."""
    names = TenantNames(slug)
    password = kafka_users.new_password()
    async with kafka_admin(broker.admin) as admin:
        await ensure_tenant_topics(admin, names, TopicSettings(partitions=2))
        user = await kafka_users.ensure_tenant_user(admin, names, password,
                                                    broker.admin.mechanism)
    return KafkaTenant(names, broker.admin.as_user(user, password))


@pytest.fixture
async def tenant_pair(sasl_broker: SaslKafka, unique: str) -> tuple[KafkaTenant, KafkaTenant]:
    return (await make_kafka_tenant(sasl_broker, f"{unique}-a"),
            await make_kafka_tenant(sasl_broker, f"{unique}-b"))
