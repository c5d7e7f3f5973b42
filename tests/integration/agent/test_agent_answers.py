"""The agent answers questions in the customer's language: from the tenant's FAQ, its
catalogue's prices and its schedules' opening hours; and hands the conversation to staff."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.agent.conftest import AgentTenant

pytestmark = pytest.mark.usefixtures("agent_worker")


@pytest.mark.parametrize(("question", "expected"), [
    ("Aveți parcare?", "parcarea din curtea clinicii"),
    ("Is there parking?", "parking in the clinic's courtyard"),
    ("Cât costă o detartrare?", "Detartraj costă 250 RON"),  # its Romanian name
    ("How much is a filling?", "Filling costs 400 RON"),
    ("Care este programul?", "luni"),
    ("What are your opening hours?", "Monday"),
])
async def test_questions_are_answered_from_the_tenants_own_data_in_the_customers_language(
        question: str, expected: str, agent_tenants: dict[str, AgentTenant],
        chat: Any) -> None:
    conversation = await chat(agent_tenants["dental-clinic"])
    await conversation.say(question)
    answer = await conversation.answer()
    assert expected in answer.text


async def test_the_language_follows_the_customer_not_the_session(
        agent_tenants: dict[str, AgentTenant], chat: Any) -> None:
    conversation = await chat(agent_tenants["gym"], "en")
    await conversation.say("Bună, ce clase aveți?")
    answer = await conversation.answer()
    assert "Vă putem ajuta cu" in answer.text


async def test_a_customer_who_asks_for_a_person_is_handed_to_staff_and_the_agent_falls_silent(
        agent_tenants: dict[str, AgentTenant], chat: Any) -> None:
    conversation = await chat(agent_tenants["hotel"])
    await conversation.say("Vreau să vorbesc cu un om, vă rog")
    handed = await conversation.answer()
    assert "coleg" in handed.text
    await conversation.say("Alo?")
    await conversation.handled(await conversation.say("Mulțumesc"))
    assert [m["seq"] for m in await conversation.agent_messages()] == [2]  # the hand-off only
