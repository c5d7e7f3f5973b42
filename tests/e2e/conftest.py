"""What the whole-platform scenarios share: a visitor's page on a demo tenant (the stock
phoenix.js client under Node, joined to a new guest conversation through the running API and
hub), removed with everything it booked afterwards."""

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


