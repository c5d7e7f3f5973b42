"""A conversation handed to staff, live both ways, with the stock phoenix.js client and two hub
replicas (the page on the stack's hub, the receptionist on another): the customer asks for a
person, the agent hands off and the inbox hears of it; staff join and reply, the customer sees it
live; the customer answers, staff see it live (and the inbox too); the agent says nothing
meanwhile; staff hand back and the agent answers the next message."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import asyncpg
import httpx
import pytest

from simptu.devstack.demo_tokens import demo_token
from simptu.devstack.envfile import StackEnv
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.settings import CoreSettings
from simptu.runtime.ws.hub import Hub
from simptu.runtime.ws.platform import open_platform
from simptu.runtime.ws.server import start
from simptu.runtime.ws.settings import WsSettings
from tests.integration.ws.conftest import Replica, closed_within
from tests.integration.ws.phoenix_driver import PhoenixDriver


@pytest.fixture(scope="module")
async def other_replica(stack: StackEnv, core_settings: CoreSettings) -> AsyncIterator[Replica]:
    """A second hub replica, beside the one `make up` runs."""
    settings = WsSettings.model_validate(core_settings.model_dump() | {
        "guest_token_secret": stack["SIMPTU_GUEST_TOKEN_SECRET"]})
    async with AsyncExitStack() as stack_of_resources:
        platform = await stack_of_resources.enter_async_context(open_platform(settings))
        hub = await stack_of_resources.enter_async_context(Hub(platform))
        server = await start(hub, "127.0.0.1", 0)
        stack_of_resources.push_async_callback(closed_within, server, 10.0)
        yield Replica(hub, server)


async def _messages(db: asyncpg.Pool, names: Any, session_id: uuid.UUID) -> list[str]:
    async with TenantUnitOfWork(db, names) as conn:
        rows = await conn.fetch("SELECT author FROM chat_messages WHERE session_id = $1 "
                                "ORDER BY seq", session_id)
    return [row["author"] for row in rows]


async def test_staff_and_customer_see_each_other_live_and_the_agent_waits_for_the_hand_back(
        visit: Any, phoenix: PhoenixDriver, other_replica: Replica, stack: StackEnv,
        db: asyncpg.Pool) -> None:
    page, tenant, session_id = await visit("dental-clinic", "ro")
    assert tenant.auth_issuer is not None
    async with httpx.AsyncClient(timeout=30) as http:
        staff_token = (await demo_token(http, tenant.auth_issuer, "staff"))["access_token"]
    await phoenix.connect("staff", other_replica.url, staff_token)
    inbox = f"inbox:{tenant.slug}"
    assert (await phoenix.join("staff", inbox))["status"] == "ok"

    await page.say("Vreau să vorbesc cu un om, vă rog")
    await phoenix.event("staff", "handoff_requested",
                        lambda event: event["session_id"] == str(session_id))
    assert (await phoenix.join("staff", page.topic))["status"] == "ok"

    staff_said = await phoenix.push("staff", page.topic, "message",
                                    {"text": "Bună ziua, sunt Maria de la recepție."})
    assert staff_said["status"] == "ok", staff_said
    seen_by_customer = await phoenix.event(
        "page", "message", lambda m: m["message_id"] == staff_said["response"]["message_id"])
    assert (seen_by_customer["author"], seen_by_customer["text"]) == (
        "staff", "Bună ziua, sunt Maria de la recepție.")

    customer_said = await phoenix.push("page", page.topic, "message",
                                       {"text": "Mă doare o măsea de ieri.",
                                        "client_msg_id": uuid.uuid4().hex})
    assert customer_said["status"] == "ok", customer_said
    mid = customer_said["response"]["message_id"]
    seen_by_staff = await phoenix.event("staff", "message", lambda m: m["message_id"] == mid)
    in_inbox = await phoenix.event("staff", "message_received",
                                   lambda m: m["message_id"] == mid)
    assert (seen_by_staff["author"], seen_by_staff["text"]) == (
        "customer", "Mă doare o măsea de ieri.")
    assert in_inbox["session_id"] == str(session_id)

    async with httpx.AsyncClient(base_url=stack["SIMPTU_API_URL"], timeout=30) as api:
        back = await api.post(f"/v1/chat/sessions/{session_id}/handback", headers={
            "Authorization": f"Bearer {staff_token}", "X-Simptu-Tenant": tenant.slug})
    assert back.status_code == 200, back.text
    assert back.json()["status"] == "open"
    await phoenix.event("staff", "conversation_handed_back",
                        lambda event: event["session_id"] == str(session_id))

    answer = await page.say("Ce program aveți mâine?")
    assert answer["text"]
    # The agent handles a conversation's messages in order: by the time it answered the last
    # one it had passed the message sent to staff, and said nothing to it.
    assert await _messages(db, tenant.names, session_id) == [
        "customer", "agent", "staff", "customer", "customer", "agent"]
    assert mid not in {reply["in_reply_to"] for reply in phoenix.events("page", "reply")}
