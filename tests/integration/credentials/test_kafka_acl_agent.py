"""The real agent worker, logged in to a SASL/SCRAM broker as its tenant's Kafka user (the
values of the Secret `agent-kafka`, with the per-tenant group the operator sets), answers a
conversation with nothing but that user's ACLs; its password rotated mid-conversation, the
agents roll onto the new one and every message is answered once; the old password is refused.
The tenant's data is on the shared stack (Postgres, Redis, OpenBao); its topics are on a
private SASL broker, reached by the hub's and the relay's own users. The stack's relay leaves
the tenant alone (`*-faults`: tenants with a broker of their own), so what reaches Kafka here
is what the agent itself publishes: its reply's parts; the whole reply is in Postgres."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack

import asyncpg
import pytest
import redis.asyncio as aioredis
from aiokafka.errors import SaslAuthenticationFailed

from simptu.devstack.envfile import StackEnv
from simptu.runtime.core.chat import conversation as contract
from simptu.runtime.core.crypto import KeyRing, OpenBaoTransit
from simptu.runtime.core.events import EventProducer, kafka_users
from simptu.runtime.core.events.topics import kafka_admin
from simptu.runtime.core.kafka_access import KafkaAccess
from simptu.runtime.core.registry import TenantAgent
from simptu.runtime.core.settings import CoreSettings
from tests.integration.agent.conftest import (
    AgentProcess,
    AgentTenant,
    Chat,
    provision,
    unprovision,
)
from tests.integration.credentials.sasl_kafka import SaslKafka, login


@pytest.fixture
async def sasl_tenant(db: asyncpg.Pool, redis_client: aioredis.Redis,
                      core_settings: CoreSettings, sasl_broker: SaslKafka,
                      unique: str) -> AsyncIterator[tuple[AgentTenant, KafkaAccess]]:
    """A dental clinic with its topics and Kafka user on the private SASL broker."""
    transit = OpenBaoTransit.from_settings(core_settings)
    async with db.acquire() as conn:
        tenant = await provision(conn, redis_client, transit, sasl_broker.admin,
                                 f"{unique}-faults", "dental-clinic", TenantAgent())
    password = kafka_users.new_password()
    async with kafka_admin(sasl_broker.admin) as admin:
        user = await kafka_users.ensure_tenant_user(admin, tenant.names, password,
                                                    sasl_broker.admin.mechanism)
    try:
        yield tenant, sasl_broker.admin.as_user(user, password)
    finally:
        async with db.acquire() as conn:
            await unprovision(conn, redis_client, transit, sasl_broker.admin, tenant)


@pytest.fixture
async def guest_chat(db: asyncpg.Pool, key_ring: KeyRing, sasl_broker: SaslKafka,
                     sasl_tenant: tuple[AgentTenant, KafkaAccess]) -> AsyncIterator[Chat]:
    """A guest's conversation: published as the relay's user, read as the hub's."""
    async with AsyncExitStack() as stack:
        relay = await stack.enter_async_context(EventProducer(
            sasl_broker.platform_user("simptu-relay"), client_id="test-relay"))
        chat = Chat(sasl_tenant[0], db, relay, key_ring, sasl_broker.platform_user("simptu-ws"))
        await chat.open()
        stack.push_async_callback(chat.close)
        yield chat


@pytest.fixture
def agents() -> Iterator[list[AgentProcess]]:
    """The agent workers a test starts, stopped afterwards."""
    made: list[AgentProcess] = []
    yield made
    for worker in made:
        worker.stop()


def agent_of(stack: StackEnv, agents: list[AgentProcess], tenant: AgentTenant,
             access: KafkaAccess) -> AgentProcess:
    """The tenant's agent as its pod runs it: the Secret's login, the ConfigMap's group."""
    agents.append(AgentProcess(stack, ["--tenant", tenant.slug], {
        "SIMPTU_KAFKA_BOOTSTRAP": access.bootstrap,
        "SIMPTU_KAFKA_SASL_MECHANISM": access.mechanism,
        "SIMPTU_KAFKA_USERNAME": access.username, "SIMPTU_KAFKA_PASSWORD": access.password,
        "SIMPTU_AGENT_GROUP_ID": kafka_users.agent_group(tenant.names)}))
    return agents[-1]


async def test_the_agent_answers_with_only_its_tenants_kafka_user(
    stack: StackEnv, sasl_tenant: tuple[AgentTenant, KafkaAccess], guest_chat: Chat,
    agents: list[AgentProcess],
) -> None:
    tenant, access = sasl_tenant
    await agent_of(stack, agents, tenant, access).start()
    question = await guest_chat.say("Bună ziua! Ce program aveți?")
    parts = await guest_chat.events(lambda e: e.type == contract.REPLY_DELTA)
    assert parts[-1].tenantid == tenant.slug  # published by the agent with its own user
    await guest_chat.handled(question)
    assert len(await guest_chat.agent_messages()) == 1


async def test_a_password_rotated_mid_conversation_answers_every_message_once(
    stack: StackEnv, sasl_broker: SaslKafka, sasl_tenant: tuple[AgentTenant, KafkaAccess],
    guest_chat: Chat, agents: list[AgentProcess],
) -> None:
    tenant, old = sasl_tenant
    first = agent_of(stack, agents, tenant, old)
    await first.start()
    await guest_chat.handled(await guest_chat.say("Bună ziua! Ce program aveți?"))

    new = old.as_user(old.username, kafka_users.new_password())
    async with kafka_admin(sasl_broker.admin) as admin:  # the operator's rotation
        await kafka_users.upsert_credential(admin, new.username, new.password, new.mechanism)
    during = await guest_chat.say("Și sâmbăta lucrați?")  # while the pods roll
    second = agent_of(stack, agents, tenant, new)
    await second.start()
    first.stop()  # the old pod goes once the new one is ready
    await guest_chat.handled(during)
    await guest_chat.handled(await guest_chat.say("Mulțumesc! Unde vă aflați?"))

    with pytest.raises(SaslAuthenticationFailed):
        await login(old)
    assert len(await guest_chat.agent_messages()) == 3  # each message answered, once
