"""The agent worker killed in the middle of a conversation (SIGKILL: no clean shutdown) and
started again: the conversation continues where it was, with no duplicate reply and no
duplicate booking; an inbound event delivered twice is answered once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis

from simptu.runtime.core.chat import conversation as contract
from simptu.runtime.core.crypto import OpenBaoTransit
from simptu.runtime.core.events import CloudEvent
from simptu.runtime.core.registry import TenantAgent
from simptu.runtime.core.settings import CoreSettings
from tests.integration.agent.conftest import (
    AgentFactory,
    AgentTenant,
    provision,
    unprovision,
)


@pytest.fixture
async def own_tenant(db: asyncpg.Pool, redis_client: aioredis.Redis,
                     core_settings: CoreSettings, unique: str) -> AsyncIterator[AgentTenant]:
    """A dental clinic served only by the workers this test starts."""
    transit = OpenBaoTransit.from_settings(core_settings)
    async with db.acquire() as conn:
        tenant = await provision(conn, redis_client, transit, core_settings.kafka,
                                 f"{unique}-dental", "dental-clinic", TenantAgent())
    yield tenant
    async with db.acquire() as conn:
        await unprovision(conn, redis_client, transit, core_settings.kafka, tenant)


def replies_to(events: list[CloudEvent]) -> set[str]:
    return {e.data["message_id"] for e in events if e.type == contract.REPLY}


async def test_a_killed_worker_is_replaced_and_the_conversation_continues_once(
        own_tenant: AgentTenant, agent_process: AgentFactory, chat: Any, unique: str) -> None:
    settings = {"SIMPTU_AGENT_GROUP_ID": f"{unique}-agent"}
    first = agent_process(["--tenant", own_tenant.slug], settings)
    await first.start()
    conversation = await chat(own_tenant)
    await conversation.say("Bună! Vreau o consultație marți la 11, mă numesc Ana Pop")
    proposal = await conversation.answer()
    assert proposal.call is not None

    first.kill()  # between turns, waiting for the page's confirmation
    confirmation = await conversation.confirm(proposal.call)
    second = agent_process(["--tenant", own_tenant.slug], settings)
    await second.start()
    booked = await conversation.answer()

    assert "confirmată" in booked.text
    [booking] = await conversation.bookings()

    await conversation.say("De fapt vreau să anulez programarea")
    await conversation.events(lambda e: e.type == contract.REPLY_DELTA)
    second.kill()  # in the middle of the turn: a piece of its reply is out, the rest not
    third = agent_process(["--tenant", own_tenant.slug], settings)
    await third.start()
    cancel_proposal = await conversation.answer()
    assert cancel_proposal.call is not None
    assert "Anulez" in cancel_proposal.text

    await conversation.send(confirmation)  # a redelivery of an event already answered
    await conversation.confirm(cancel_proposal.call)
    cancelled = await conversation.answer()
    assert "Am anulat" in cancelled.text
    assert [b["id"] for b in await conversation.bookings()] == [booking["id"]]
    assert [b["status"] for b in await conversation.bookings()] == ["cancelled"]
    # One stored reply per answered event: proposal, booked, cancel proposal, cancelled.
    assert len(await conversation.agent_messages()) == 4


async def test_an_event_delivered_twice_gets_one_reply_and_one_booking(
        own_tenant: AgentTenant, agent_process: AgentFactory, chat: Any, unique: str) -> None:
    worker = agent_process(["--tenant", own_tenant.slug],
                           {"SIMPTU_AGENT_GROUP_ID": f"{unique}-agent"})
    await worker.start()
    conversation = await chat(own_tenant)
    request = await conversation.say("Vreau o plombă joi la 10, numele meu e Dan Pop")
    await conversation.send(request)
    proposal = await conversation.answer()
    assert proposal.call is not None

    confirmation = await conversation.confirm(proposal.call)
    await conversation.send(confirmation)
    await conversation.say("Mulțumesc!")
    events = await conversation.events(
        lambda e: e.type == contract.REPLY and len(replies_to(conversation.seen)) >= 3)

    assert len(replies_to(events)) == 2  # "booked" and "you are welcome", nothing twice
    assert len(await conversation.bookings()) == 1
    assert len(await conversation.agent_messages()) == 3
