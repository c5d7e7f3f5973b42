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


async def write_twice_then_deliver(conversation: Any, first_text: str,
                                   second_text: str) -> tuple[Any, Any]:
    """Both messages stored, then both delivered: the second came while the first waited."""
    first = await conversation.write(first_text)
    second = await conversation.write(second_text)
    await conversation.send(first)
    await conversation.send(second)
    return first, second


async def test_by_default_both_messages_are_answered_in_order(
        agent_tenants: dict[str, AgentTenant], chat: Any) -> None:
    conversation = await chat(agent_tenants["dental-clinic"])
    await write_twice_then_deliver(conversation, "Bună ziua!", "Cât costă o plombă?")

    greeting, price = await conversation.answer(), await conversation.answer()
    assert "asistentul virtual" in greeting.text
    assert "Plombă costă 400 RON" in price.text


async def test_reject_answers_the_later_message_with_a_request_to_wait(
        agent_tenants: dict[str, AgentTenant], chat: Any) -> None:
    conversation = await chat(agent_tenants["reject"])
    await write_twice_then_deliver(conversation, "Bună ziua!", "Cât costă o plombă?")

    greeting, refusal = await conversation.answer(), await conversation.answer()
    assert "asistentul virtual" in greeting.text
    assert "Încă vă răspund la mesajul anterior" in refusal.text
    assert len(await conversation.bookings()) == 0


async def test_interrupt_answers_every_message_since_the_last_reply_at_once(
        agent_tenants: dict[str, AgentTenant], chat: Any) -> None:
    conversation = await chat(agent_tenants["interrupt"])
    _first, second = await write_twice_then_deliver(conversation, "Vreau o consultație marți",
                                                    "la 11, mă numesc Ana Pop")

    proposal = await conversation.answer()
    await conversation.handled(second)
    assert proposal.call is not None  # day from the first message, time and name from the second
    assert "Ana Pop" in proposal.text
    assert len(await conversation.agent_messages()) == 1
