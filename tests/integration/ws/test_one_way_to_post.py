"""Posting a message through the API and through the hub is one use case
(runtime/core/chat/actions): the same dedupe by client message id, the same longest text, the
same visibility, the same events — the message for the agent on `inbound`, and the message
itself on `outbound`, which every socket of the conversation gets live on any replica and which
the resume log keeps."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from simptu.devstack.envfile import StackEnv
from simptu.runtime.api.app import create_app
from simptu.runtime.api.settings import ApiSettings
from simptu.runtime.core.chat import conversation as contract
from simptu.runtime.core.customer_tokens import issue_customer_token
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.settings import CoreSettings

from .conftest import GuestChat, GuestChats, Replica, next_event, reader_at_end
from .phoenix_driver import PhoenixDriver

MAX_TEXT = 4000  # SIMPTU_CHAT_MAX_TEXT_CHARS, the same for the API and the hub


@dataclass(frozen=True)
class Answer:
    """What a transport answered a post with: ok, and the message id or the refusal's code."""

    ok: bool
    message_id: str | None = None
    duplicate: bool = False
    reason: str | None = None


class Rest:
    def __init__(self, api: httpx.AsyncClient) -> None:
        self.api = api

    async def post(self, chat: GuestChat, text: str, client_msg_id: str) -> Answer:
        answer = await self.api.post(
            f"/v1/chat/sessions/{chat.session_id}/messages",
            json={"text": text, "client_msg_id": client_msg_id},
            headers={"Authorization": f"Bearer {chat.token}",
                     "X-Simptu-Tenant": chat.tenant.slug})
        if answer.status_code in (200, 201):
            return Answer(True, answer.json()["id"], duplicate=answer.status_code == 200)
        return Answer(False, reason=answer.json()["type"].rsplit("/", 1)[-1])


class Hub:
    def __init__(self, phoenix: PhoenixDriver, replica: Replica) -> None:
        self.phoenix = phoenix
        self.replica = replica
        self.joined: set[str] = set()

    async def post(self, chat: GuestChat, text: str, client_msg_id: str) -> Answer:
        socket = f"poster-{chat.session_id}"
        if socket not in self.joined:
            await self.phoenix.connect(socket, self.replica.url, chat.token)
            joined = await self.phoenix.join(socket, chat.topic)
            if joined["status"] != "ok":  # the hub checks who may see it when joining
                return Answer(False, reason=joined["response"]["reason"])
            self.joined.add(socket)
        sent = await self.phoenix.push(socket, chat.topic, "message",
                                       {"text": text, "client_msg_id": client_msg_id})
        if sent["status"] == "ok":
            return Answer(True, sent["response"]["message_id"],
                          duplicate=sent["response"]["duplicate"])
        return Answer(False, reason=sent["response"]["reason"])


@pytest.fixture(scope="module")
async def api_app(core_settings: CoreSettings, stack: StackEnv) -> AsyncIterator[FastAPI]:
    settings = ApiSettings.model_validate(core_settings.model_dump() | {
        "keycloak_url": stack["SIMPTU_KEYCLOAK_URL"],
        "guest_token_secret": stack["SIMPTU_GUEST_TOKEN_SECRET"]})
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(params=["rest", "hub"])
async def transport(request: pytest.FixtureRequest, api_app: FastAPI, phoenix: PhoenixDriver,
                    replicas: tuple[Replica, Replica]) -> AsyncIterator[Rest | Hub]:
    assert api_app.state.platform.settings.chat_max_text_chars == MAX_TEXT
    if request.param == "hub":
        assert replicas[0].hub.platform.settings.chat_max_text_chars == MAX_TEXT
        yield Hub(phoenix, replicas[0])
        return
    transport = httpx.ASGITransport(app=api_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test",
                                 timeout=30) as api:
        yield Rest(api)


async def _stored(db: asyncpg.Pool, chat: GuestChat) -> list[dict[str, Any]]:
    async with TenantUnitOfWork(db, chat.tenant.names) as conn:
        # The stack's agent may have answered meanwhile: its replies are not what is tested.
        rows = await conn.fetch("SELECT id, author, client_msg_id FROM chat_messages "
                                "WHERE session_id = $1 AND author <> 'agent' ORDER BY seq",
                                chat.session_id)
    return [{**dict(row), "id": str(row["id"])} for row in rows]


async def test_a_message_posted_through_either_transport_follows_the_same_rules(
        transport: Rest | Hub, guest_chat: GuestChats, db: asyncpg.Pool, stack: StackEnv,
        phoenix: PhoenixDriver, replicas: tuple[Replica, Replica]) -> None:
    chat, stranger = await guest_chat(), await guest_chat()
    # Someone else in the conversation, on the other replica, sees what is posted live.
    await phoenix.connect("watcher", replicas[1].url, chat.token)
    await phoenix.join("watcher", chat.topic)
    inbound = await reader_at_end(stack, chat.tenant.names.topic("inbound"))

    first = await transport.post(chat, "Aveți loc joi?", "c-1")
    again = await transport.post(chat, "Aveți loc joi?", "c-1")
    too_long = await transport.post(chat, "x" * (MAX_TEXT + 1), "c-2")
    elsewhere = await transport.post(
        GuestChat(chat.tenant, stranger.session_id, chat.token), "Alo?", "c-3")

    assert (first.ok, first.duplicate) == (True, False)
    assert (again.ok, again.duplicate, again.message_id) == (True, True, first.message_id)
    assert (too_long.ok, too_long.reason) == (False, "text-too-long")
    assert (elsewhere.ok, elsewhere.reason) == (False, "unknown-session")
    assert await _stored(db, chat) == [
        {"id": first.message_id, "author": "customer", "client_msg_id": "c-1"}]
    assert await _stored(db, stranger) == []
    try:  # for the agent
        received = await next_event(inbound, contract.MESSAGE_RECEIVED, chat.session_id)
    finally:
        await inbound.stop()
    assert (received.data["message_id"], received.data["client_msg_id"]) == (
        first.message_id, "c-1")
    seen = await phoenix.event("watcher", "message")
    assert (seen["message_id"], seen["text"], seen["author"], seen["client_msg_id"]) == (
        first.message_id, "Aveți loc joi?", "customer", "c-1")
    logged = await replicas[0].hub.platform.session_log.since(
        chat.tenant.slug, str(chat.session_id), -1)
    assert [e["payload"]["message_id"] for e in logged if e["event"] == "message"] == [
        first.message_id]


async def test_an_access_code_token_reads_but_does_not_post(
        transport: Rest | Hub, guest_chat: GuestChats, stack: StackEnv,
        db: asyncpg.Pool) -> None:
    chat = await guest_chat()
    customer_id = uuid.uuid4()
    async with TenantUnitOfWork(db, chat.tenant.names) as conn:
        await conn.execute("UPDATE chat_sessions SET customer_id = $2 WHERE id = $1",
                           chat.session_id, customer_id)
    token, _ = issue_customer_token(stack["SIMPTU_GUEST_TOKEN_SECRET"], chat.tenant.slug,
                                    customer_id, dt.timedelta(minutes=5))
    refused = await transport.post(GuestChat(chat.tenant, chat.session_id, token), "Hi", "r-1")
    assert (refused.ok, refused.reason) == (False, "read-only-token")
    assert await _stored(db, chat) == []
