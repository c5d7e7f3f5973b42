"""A customer books through the whole platform `make up` runs: the stock phoenix.js client (under
Node) gets a guest token from the API, joins its conversation on the WS hub, and talks to the
agent worker (local model) in Romanian or English; the agent asks for what it needs, proposes the
booking with a `function_call`, the page confirms with `function_result`, and the booking is in
the tenant's schema. Every hop is the real one: hub, outbox relay, Kafka, agent, Postgres."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
import yaml

from simptu.devstack.envfile import StackEnv
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.registry import TenantRecord, TenantRegistry
from tests.integration.ws.phoenix_driver import PhoenixDriver, node_client_dir

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
DEMO = {(manifest := yaml.safe_load(path.read_text()))["spec"]["businessType"]:
        manifest["metadata"]["name"] for path in sorted(EXAMPLES.glob("*.yaml"))}
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


class Page:
    """One visitor's page: a phoenix.js socket joined to its conversation."""

    def __init__(self, phoenix: PhoenixDriver, topic: str) -> None:
        self.phoenix = phoenix
        self.topic = topic

    async def say(self, text: str) -> dict[str, Any]:
        """Send a message; the agent's whole reply to it (its deltas came first)."""
        sent = await self.phoenix.push("page", self.topic, "message",
                                       {"text": text, "client_msg_id": uuid.uuid4().hex})
        assert sent["status"] == "ok", sent
        return await self.phoenix.event(
            "page", "reply", lambda reply: reply["in_reply_to"] == sent["response"]["message_id"])

    def deltas_of(self, reply: dict[str, Any]) -> list[str]:
        return [delta["delta"] for delta in self.phoenix.events("page", "reply_delta")
                if delta["message_id"] == reply["message_id"]]


@pytest.fixture
async def phoenix() -> AsyncIterator[PhoenixDriver]:
    driver = await PhoenixDriver.start(node_client_dir())
    yield driver
    await driver.close()


@pytest.fixture
async def visit(phoenix: PhoenixDriver, stack: StackEnv, db: asyncpg.Pool,
                redis_client: aioredis.Redis) -> AsyncIterator[Any]:
    """Opens a demo tenant's page as a new visitor; its session, customer and bookings are
    removed afterwards, so the same slots are free for the next run."""
    opened: list[tuple[TenantRecord, uuid.UUID]] = []

    async def open_page(business_type: str, locale: str) -> tuple[Page, TenantRecord, uuid.UUID]:
        tenant = await TenantRegistry(db, redis_client).require_ready(DEMO[business_type])
        async with httpx.AsyncClient(base_url=stack["SIMPTU_API_URL"], timeout=30) as api:
            answer = await api.post("/v1/chat/guest", json={"locale": locale}, headers={
                "X-Simptu-Tenant": tenant.slug, "Origin": tenant.web_origins[0]})
        assert answer.status_code == 201, answer.text
        guest = answer.json()
        opened.append((tenant, uuid.UUID(guest["session_id"])))
        await phoenix.connect("page", stack["SIMPTU_WS_URL"], guest["token"])
        page = Page(phoenix, f"chat:{guest['session_id']}")
        assert (await phoenix.join("page", page.topic))["status"] == "ok"
        return page, tenant, opened[-1][1]

    yield open_page
    for tenant, session_id in opened:
        async with TenantUnitOfWork(db, tenant.names) as conn:
            customer = await conn.fetchval("SELECT customer_id FROM chat_sessions WHERE id = $1",
                                           session_id)
            await conn.execute("DELETE FROM bookings WHERE customer_id = $1", customer)
            await conn.execute("DELETE FROM chat_sessions WHERE id = $1", session_id)


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
