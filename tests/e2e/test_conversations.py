"""A customer books through the whole platform `make up` runs: the stock phoenix.js client (under
Node) gets a guest token from the API, joins its conversation on the WS hub, and talks to the
agent worker (local model) in Romanian or English; the agent asks for what it needs, proposes the
booking with a `function_call`, the page confirms with `function_result`, and the booking is in
the tenant's schema. Every hop is the real one: hub, outbox relay, Kafka, agent, Postgres."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest

from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.registry import TenantRecord
from tests.integration.ws.phoenix_driver import PhoenixDriver

# Greeting, request, name: slots the demo catalogues have (make up seeds them).
SCRIPTS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("dental-clinic", "ro"): ("Bună ziua!", "Aș dori o programare pentru detartraj marți la 10",
                              "Mă numesc Ana Pop"),
    ("dental-clinic", "en"): ("Hello!", "I would like to book a filling on Wednesday at 11:30",
                              "My name is John Smith"),
    ("gym", "ro"): ("Salut", "Vreau să mă înscriu la yoga miercuri la 18", "Mă numesc Ioana"),
    ("gym", "en"): ("Hi there", "Can I book spinning on Thursday at 7am?", "My name is Emma"),
    ("hotel", "ro"): ("Bună seara", "Aș dori o cameră dublă pentru 2 nopți de vineri",
                      "Numele meu este Radu Ionescu"),
    ("hotel", "en"): ("Good evening", "I'd like to reserve the family suite for 3 nights "
                      "from Monday", "My name is Paul Weber"),
}
BOOKED = {"ro": "confirmată", "en": "confirmed"}


async def bookings_of(db: asyncpg.Pool, tenant: TenantRecord,
                      session_id: uuid.UUID) -> list[asyncpg.Record]:
    async with TenantUnitOfWork(db, tenant.names) as conn:
        return list(await conn.fetch(
            "SELECT b.* FROM bookings b JOIN chat_sessions s ON s.customer_id = b.customer_id "
            "WHERE s.id = $1", session_id))


@pytest.mark.parametrize(("business_type", "locale"), list(SCRIPTS))
async def test_a_visitor_books_through_the_page_in_their_language(
        business_type: str, locale: str, visit: Any, phoenix: PhoenixDriver,
        db: asyncpg.Pool) -> None:
    page, tenant, session_id = await visit(business_type, locale)
    greeting, request, name = SCRIPTS[business_type, locale]

    hello = await page.say(greeting)
    assert len(page.deltas_of(hello)) > 1
    assert "".join(page.deltas_of(hello)) == hello["text"]
    asked = await page.say(request)
    assert "?" in asked["text"]
    proposal = await page.say(name)
    call = await phoenix.event("page", "function_call")

    assert call["name"] == "confirm_booking"
    assert name.split()[-1] in proposal["text"]
    assert await bookings_of(db, tenant, session_id) == []  # nothing before the visitor agrees
    confirmed = await phoenix.push("page", page.topic, "function_result",
                                   {"call_id": call["call_id"], "result": {"confirmed": True}})
    assert confirmed["status"] == "ok", confirmed
    await phoenix.event("page", "reply", lambda reply: BOOKED[locale] in reply["text"])
    [booking] = await bookings_of(db, tenant, session_id)
    assert booking["status"] == "booked"
