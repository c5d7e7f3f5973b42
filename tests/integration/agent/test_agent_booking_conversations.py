"""Scripted booking conversations with the agent on the local model, in Romanian and in
English, for a dental clinic, a gym and a hotel: the agent asks what it needs, proposes the
booking with a `function_call`, and books once the page confirms through `function_result`."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.integration.agent.conftest import TIMEZONE, AgentTenant, next_weekday

pytestmark = pytest.mark.usefixtures("agent_worker")

SCRIPTS: dict[tuple[str, str], list[str]] = {
    ("dental-clinic", "ro"): ["Bună ziua!", "Aș dori o programare pentru detartraj marți la 10",
                              "Mă numesc Ana Pop"],
    ("dental-clinic", "en"): ["Hello!", "I would like to book a filling on Wednesday at 11:30",
                              "My name is John Smith"],
    ("gym", "ro"): ["Salut", "Vreau să mă înscriu la yoga miercuri la 18", "Mă numesc Ioana"],
    ("gym", "en"): ["Hi there", "Can I book spinning on Thursday at 7am?", "My name is Emma"],
    ("hotel", "ro"): ["Bună seara", "Aș dori o cameră dublă pentru 2 nopți de vineri",
                      "Numele meu este Radu Ionescu"],
    ("hotel", "en"): ["Good evening", "I'd like to reserve the family suite for 3 nights "
                      "from Monday", "My name is Paul Weber"],
}
BOOKED_WORDS = {"ro": "confirmată", "en": "confirmed"}


@pytest.mark.parametrize(("business_type", "locale"), list(SCRIPTS))
async def test_a_customer_books_in_their_language_and_the_page_confirms(
        business_type: str, locale: str, agent_tenants: dict[str, AgentTenant],
        chat: Any) -> None:
    conversation = await chat(agent_tenants[business_type], locale)
    greeting, request, name = SCRIPTS[business_type, locale]

    await conversation.say(greeting)
    hello = await conversation.answer()
    assert "Test" in hello.text
    assert len(hello.deltas) > 1
    await conversation.say(request)
    asked = await conversation.answer()
    assert asked.call is None
    assert "?" in asked.text
    await conversation.say(name)
    proposal = await conversation.answer()

    assert proposal.call is not None
    assert proposal.call["name"] == "confirm_booking"
    assert name.split()[-1] in proposal.text
    assert await conversation.bookings() == []  # nothing is booked before the customer says yes
    await conversation.confirm(proposal.call)
    done = await conversation.answer()
    assert BOOKED_WORDS[locale] in done.text
    [booking] = await conversation.bookings()
    assert booking["status"] == "booked"


async def test_the_dental_booking_lands_on_the_day_and_time_the_customer_named(
        agent_tenants: dict[str, AgentTenant], chat: Any) -> None:
    conversation = await chat(agent_tenants["dental-clinic"])
    await conversation.say("Vreau o consultație joi la 9:30, numele meu este Maria Pop")
    proposal = await conversation.answer()
    await conversation.confirm(proposal.call)
    await conversation.answer()

    [booking] = await conversation.bookings()
    start = booking["start_at"].astimezone(ZoneInfo(TIMEZONE))
    assert (start.date(), start.strftime("%H:%M")) == (next_weekday(4), "09:30")


async def test_a_customer_who_says_no_gets_nothing_booked(
        agent_tenants: dict[str, AgentTenant], chat: Any) -> None:
    conversation = await chat(agent_tenants["dental-clinic"])
    await conversation.say("Vreau o consultație vineri la 10, mă numesc Dan Pop")
    proposal = await conversation.answer()
    assert proposal.call is not None
    await conversation.say("Nu, mulțumesc")
    declined = await conversation.answer()

    assert "nu am schimbat nimic" in declined.text
    assert await conversation.bookings() == []

