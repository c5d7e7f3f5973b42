"""A customer who writes again before the agent has answered ("double texting"): by default
the messages are answered in order; a tenant may have the later one refused with a request to
wait (`reject`), or have the agent answer everything since its last reply at once
(`interrupt`). Both messages are stored before either is delivered, as when the second
arrives while the agent still works on the first."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.agent.conftest import AgentTenant

pytestmark = pytest.mark.usefixtures("agent_worker")


async def test_by_default_both_messages_are_answered_in_order(
        agent_tenants: dict[str, AgentTenant], chat: Any) -> None:
    conversation = await chat(agent_tenants["dental-clinic"])
    first = await conversation.write("Bună ziua!")
    second = await conversation.write("Cât costă o plombă?")
    await conversation.send(first)
    await conversation.send(second)

    greeting, price = await conversation.answer(), await conversation.answer()
    assert "asistentul virtual" in greeting.text
    assert "Filling costă 400 RON" in price.text


async def test_reject_answers_the_later_message_with_a_request_to_wait(
        agent_tenants: dict[str, AgentTenant], chat: Any) -> None:
    conversation = await chat(agent_tenants["reject"])
    first = await conversation.write("Bună ziua!")
    second = await conversation.write("Cât costă o plombă?")
    await conversation.send(first)
    await conversation.send(second)

    greeting, refusal = await conversation.answer(), await conversation.answer()
    assert "asistentul virtual" in greeting.text
    assert "Încă vă răspund la mesajul anterior" in refusal.text
    assert len(await conversation.bookings()) == 0


async def test_interrupt_answers_every_message_since_the_last_reply_at_once(
        agent_tenants: dict[str, AgentTenant], chat: Any) -> None:
    conversation = await chat(agent_tenants["interrupt"])
    first = await conversation.write("Vreau o consultație marți")
    second = await conversation.write("la 11, mă numesc Ana Pop")
    await conversation.send(first)
    await conversation.send(second)

    proposal = await conversation.answer()
    await conversation.handled(second)
    assert proposal.call is not None  # day from the first message, time and name from the second
    assert "Ana Pop" in proposal.text
    assert len(await conversation.agent_messages()) == 1
