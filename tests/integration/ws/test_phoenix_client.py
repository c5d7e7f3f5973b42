"""The stock phoenix.js client (under Node, `ws` as its WebSocket) against two hub replicas:
a guest joins its conversation, sends a message, gets the agent's streamed reply, reconnects
and resumes; staff on the other replica see its presence and the inbox hears of it."""

from __future__ import annotations

import uuid
from typing import cast

import asyncpg
import redis.asyncio as aioredis

from simptu.devstack.envfile import StackEnv
from simptu.runtime.core.chat import conversation as contract
from simptu.runtime.core.database import TenantUnitOfWork

from .conftest import CLINIC, Agent, GuestChats, Replica, TokenOf, next_event, reader_at_end
from .phoenix_driver import PhoenixDriver


async def test_a_guest_sends_a_message_and_receives_the_streamed_reply(
        phoenix: PhoenixDriver, replicas: tuple[Replica, Replica], guest_chat: GuestChats,
        agent: Agent, db: asyncpg.Pool) -> None:
    chat = await guest_chat()
    await phoenix.connect("page", replicas[0].url, chat.token)
    assert (await phoenix.join("page", chat.topic))["status"] == "ok"

    sent = await phoenix.push("page", chat.topic, "message",
                              {"text": "Aveți loc mâine la 10?", "client_msg_id": "c-1"})
    assert sent["status"] == "ok"
    message_id = await agent.reply(chat, ["Da, ", "avem ", "loc."],
                                   in_reply_to=sent["response"]["message_id"])

    # The stack's own agent answers the demo clinic too: this test's reply is told by its id.
    reply = await phoenix.event("page", "reply", lambda r: r["message_id"] == str(message_id))
    assert reply["text"] == "Da, avem loc."
    assert reply["in_reply_to"] == sent["response"]["message_id"]
    assert [(d["seq"], d["delta"]) for d in phoenix.events("page", "reply_delta")
            if d["message_id"] == str(message_id)] == [(0, "Da, "), (1, "avem "), (2, "loc.")]
    async with TenantUnitOfWork(db, chat.tenant.names) as conn:
        stored = await conn.fetchrow("SELECT author, client_msg_id FROM chat_messages "
                                     "WHERE id = $1", uuid.UUID(sent["response"]["message_id"]))
    assert dict(stored) == {"author": "customer", "client_msg_id": "c-1"}


async def test_a_repeated_client_msg_id_is_acknowledged_with_the_first_id_and_stored_once(
        phoenix: PhoenixDriver, replicas: tuple[Replica, Replica], guest_chat: GuestChats,
        db: asyncpg.Pool) -> None:
    chat = await guest_chat()
    await phoenix.connect("page", replicas[0].url, chat.token)
    await phoenix.join("page", chat.topic)

    message = {"text": "Bună", "client_msg_id": "m-7"}
    first = await phoenix.push("page", chat.topic, "message", message)
    again = await phoenix.push("page", chat.topic, "message", message)

    assert again["response"]["message_id"] == first["response"]["message_id"]
    assert again["response"]["duplicate"] is True
    async with TenantUnitOfWork(db, chat.tenant.names) as conn:
        # The customer's messages only: the stack's agent may have answered already.
        assert await conn.fetchval("SELECT count(*) FROM chat_messages WHERE session_id = $1 "
                                   "AND author = 'customer'", chat.session_id) == 1


async def test_a_message_reaches_the_agent_on_the_tenants_inbound_topic(
        phoenix: PhoenixDriver, replicas: tuple[Replica, Replica], guest_chat: GuestChats,
        stack: StackEnv) -> None:
    chat = await guest_chat()
    inbound = await reader_at_end(stack, chat.tenant.names.topic("inbound"))
    try:
        await phoenix.connect("page", replicas[0].url, chat.token)
        await phoenix.join("page", chat.topic)
        sent = await phoenix.push("page", chat.topic, "message",
                                  {"text": "O programare, vă rog", "client_msg_id": "k-1"})
        event = await next_event(inbound, contract.MESSAGE_RECEIVED, chat.session_id)
    finally:
        await inbound.stop()
    received = contract.MessageReceived.model_validate(event.data)
    assert (event.source, str(received.message_id), received.client_msg_id) == (
        "/simptu/ws", sent["response"]["message_id"], "k-1")


async def test_a_function_call_reaches_the_page_and_its_result_resumes_the_agent(
        phoenix: PhoenixDriver, replicas: tuple[Replica, Replica], guest_chat: GuestChats,
        agent: Agent, stack: StackEnv) -> None:
    chat = await guest_chat()
    await phoenix.connect("page", replicas[1].url, chat.token)
    await phoenix.join("page", chat.topic)
    await agent.say(chat, contract.FUNCTION_CALL, {
        "call_id": "call-1", "name": "show_slot_picker", "arguments": {"day": "2026-12-01"}})

    call = await phoenix.event("page", "function_call")
    inbound = await reader_at_end(stack, chat.tenant.names.topic("inbound"))
    try:
        answered = await phoenix.push("page", chat.topic, "function_result",
                                      {"call_id": call["call_id"], "result": {"slot": "10:00"}})
        event = await next_event(inbound, contract.FUNCTION_RESULT, chat.session_id)
    finally:
        await inbound.stop()
    assert (call["name"], call["arguments"]) == ("show_slot_picker", {"day": "2026-12-01"})
    assert answered["status"] == "ok"
    assert contract.FunctionResult.model_validate(event.data).result == {"slot": "10:00"}


async def test_a_reconnecting_client_gets_what_it_missed_in_order_and_once(
        phoenix: PhoenixDriver, replicas: tuple[Replica, Replica], guest_chat: GuestChats,
        agent: Agent) -> None:
    chat = await guest_chat()
    await phoenix.connect("page", replicas[0].url, chat.token)
    await phoenix.join("page", chat.topic, resume=True)
    await agent.reply(chat, ["first"])
    await phoenix.event("page", "reply", lambda reply: reply["text"] == "first")

    await phoenix.command("disconnect", socket="page")
    await phoenix.expect(lambda line: line["type"] == "disconnected")
    await agent.reply(chat, ["second"])
    await agent.reply(chat, ["third"])
    await phoenix.command("reconnect", socket="page")
    await phoenix.event("page", "reply", lambda reply: reply["text"] == "third")
    await agent.reply(chat, ["fourth"])
    await phoenix.event("page", "reply", lambda reply: reply["text"] == "fourth")

    replies = phoenix.events("page", "reply")
    assert [reply["text"] for reply in replies] == ["first", "second", "third", "fourth"]
    assert [r["event_id"] for r in replies] == sorted({r["event_id"] for r in replies})


async def test_the_resume_log_holds_pushes_sealed_under_the_tenant_s_keys(
        phoenix: PhoenixDriver, replicas: tuple[Replica, Replica], guest_chat: GuestChats,
        agent: Agent, redis_client: aioredis.Redis) -> None:
    chat = await guest_chat()
    await phoenix.connect("page", replicas[0].url, chat.token)
    await phoenix.join("page", chat.topic, resume=True)
    await agent.reply(chat, ["Avem loc ", "joi la 10."])
    await phoenix.event("page", "reply", lambda reply: reply["text"] == "Avem loc joi la 10.")

    key = f"simptu:ws:log:{{{chat.tenant.slug}}}:{chat.session_id}"
    entries = cast("list[tuple[bytes, dict[bytes, bytes]]]", await redis_client.xrange(key))
    assert len(entries) == 3  # two deltas and the reply
    assert all(b"joi la 10" not in fields[b"e"] for _, fields in entries)
    # Under the tenant's braces: deleting the tenant's Redis keys takes the log too.
    tenant_keys = [k async for k in redis_client.scan_iter(
        match=f"simptu:*:{{{chat.tenant.slug}}}:*", count=1000)]
    assert key.encode() in tenant_keys


async def test_the_token_may_come_as_the_bearer_subprotocol_and_frames_as_version_1(
        phoenix: PhoenixDriver, replicas: tuple[Replica, Replica], guest_chat: GuestChats,
        agent: Agent) -> None:
    chat = await guest_chat()
    await phoenix.connect("page", replicas[0].url, chat.token, auth="protocol", vsn="1.0.0")
    assert (await phoenix.join("page", chat.topic))["status"] == "ok"
    await agent.reply(chat, ["salut"])
    assert (await phoenix.event("page", "reply"))["text"] == "salut"


async def test_staff_on_the_other_replica_see_the_guest_present_and_the_same_replies(
        phoenix: PhoenixDriver, replicas: tuple[Replica, Replica], guest_chat: GuestChats,
        agent: Agent, token_of: TokenOf) -> None:
    chat = await guest_chat()
    await phoenix.connect("desk", replicas[1].url, await token_of(CLINIC, "staff"))
    assert (await phoenix.join("desk", chat.topic))["status"] == "ok"
    await phoenix.connect("page", replicas[0].url, chat.token)
    await phoenix.join("page", chat.topic)

    present = await phoenix.presence("desk", chat.topic, lambda people: len(people) == 2)
    await agent.reply(chat, ["Vă ", "ajutăm"])
    for socket in ("desk", "page"):
        assert (await phoenix.event(socket, "reply"))["text"] == "Vă ajutăm"
    await phoenix.command("disconnect", socket="page")
    gone = await phoenix.presence("desk", chat.topic, lambda people: len(people) == 1)

    assert sorted(p["roles"][0] for p in present) == ["guest", "staff"]
    assert [p["roles"] for p in gone] == [["staff"]]


async def test_the_staff_inbox_hears_of_new_conversations_and_who_of_the_staff_is_online(
        phoenix: PhoenixDriver, replicas: tuple[Replica, Replica], guest_chat: GuestChats,
        token_of: TokenOf) -> None:
    await phoenix.connect("desk", replicas[1].url, await token_of(CLINIC, "staff"))
    assert (await phoenix.join("desk", f"inbox:{CLINIC}"))["status"] == "ok"
    await phoenix.connect("boss", replicas[0].url, await token_of(CLINIC, "admin"))
    await phoenix.join("boss", f"inbox:{CLINIC}")

    chat = await guest_chat()
    opened = await phoenix.event("desk", "conversation_opened",
                                 lambda event: event["session_id"] == str(chat.session_id))
    online = await phoenix.presence("desk", f"inbox:{CLINIC}",
                                    lambda people: {"staff", "tenant-admin"} <= {
                                        role for p in people for role in p["roles"]})

    assert opened["channel"] == "web"
    assert len(online) >= 2
