"""Meta's channels against the running stack: its API receives signed webhooks, its agent
answers the demo tenants, its channel senders deliver to the Graph API stand-in, which the
tests read and steer (faults, windows) through its control endpoints."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from simptu.devstack.demo_channels import DemoChannel, demo_channel
from simptu.devstack.envfile import StackEnv
from simptu.devstack.standins.meta_control import MetaGraphControl
from simptu.devstack.standins.meta_payloads import encode, sign
from simptu.runtime.core.channels.contacts import Contact, contact_index
from simptu.runtime.core.crypto import KeyRing
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.tenancy import TenantNames

CLINIC, GYM = "zambet-dental-cluj", "pulse-fitness-timisoara"


async def until(check: Callable[[], Awaitable[bool]], seconds: float = 60.0) -> None:
    """Wait until `check()` is true (a service's state, polled), at most `seconds`."""
    async with asyncio.timeout(seconds):
        while not await check():  # noqa: ASYNC110 - polling another process's state
            await asyncio.sleep(0.3)


def new_customer() -> str:
    """A WhatsApp id of a Romanian mobile number nobody else uses in this run."""
    return f"4072{random.randrange(10**7):07d}"  # noqa: S311 - not a secret


@dataclass
class Meta:
    api: httpx.AsyncClient
    graph: MetaGraphControl
    db: asyncpg.Pool
    key_ring: KeyRing

    def channel(self, slug: str, kind: str) -> DemoChannel:
        return demo_channel(slug, kind)

    async def post(self, payload: dict[str, Any], app_secret: str, *,
                   body: bytes | None = None, signature: str | None = None) -> httpx.Response:
        """POST a delivery as Meta does: the encoded body, signed under `app_secret`."""
        raw = body if body is not None else encode(payload)
        headers = {"Content-Type": "application/json",
                   "X-Hub-Signature-256": signature or sign(app_secret, raw)}
        return await self.api.post("/v1/webhooks/meta", content=raw, headers=headers)

    async def session(self, slug: str, kind: str, customer: str) -> asyncpg.Record | None:
        """The customer's conversation on the channel, found as the platform finds it."""
        tenant = TenantNames(slug)
        async with TenantUnitOfWork(self.db, tenant) as conn:
            index = await contact_index(self.key_ring.cipher(tenant, conn),
                                        Contact(kind, customer, "ro"))
            row: asyncpg.Record | None = await conn.fetchrow(
                "SELECT * FROM chat_sessions WHERE channel = $1 AND contact_index = $2",
                kind, index)
            return row

    async def messages(self, slug: str, session_id: uuid.UUID) -> list[asyncpg.Record]:
        async with TenantUnitOfWork(self.db, TenantNames(slug)) as conn:
            return list(await conn.fetch(
                "SELECT id, author, client_msg_id FROM chat_messages WHERE session_id = $1 "
                "ORDER BY seq", session_id))

    async def deliveries(self, slug: str, session_id: uuid.UUID) -> list[asyncpg.Record]:
        async with TenantUnitOfWork(self.db, TenantNames(slug)) as conn:
            return list(await conn.fetch(
                "SELECT * FROM channel_deliveries WHERE session_id = $1 "
                "ORDER BY created_at, part", session_id))


@pytest.fixture
async def meta(stack: StackEnv, db: asyncpg.Pool,
               key_ring: KeyRing) -> AsyncIterator[Meta]:
    async with httpx.AsyncClient(base_url=stack["SIMPTU_API_URL"], timeout=20) as api, \
            httpx.AsyncClient(timeout=20) as http:
        yield Meta(api, MetaGraphControl(http, stack["SIMPTU_META_GRAPH_URL"]), db, key_ring)
