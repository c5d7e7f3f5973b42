"""A sender that stops at any moment never sends a part twice: the reply event delivered again
sends only what was still pending, and a part that was being sent when it stopped (it may or
may not have reached Meta) is marked uncertain for staff instead of being sent again. Run with
a sender of the test's own, against a Graph API stand-in of its own."""

from __future__ import annotations

import base64
import uuid

import httpx

from simptu.devstack.standins.meta_graph import MetaObject, StandinConfig, serve
from simptu.devstack.standins.meta_payloads import whatsapp_text
from simptu.runtime.channels.meta.graph import GraphClient
from simptu.runtime.channels.sender import ChannelSender
from simptu.runtime.channels.twilio.sms import TwilioSms
from simptu.runtime.core.channels.accounts import ChannelAccounts
from simptu.runtime.core.chat import conversation as contract
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.events import CloudEvent
from simptu.runtime.core.tenancy import TenantNames
from tests.integration.channels.conftest import CLINIC, Meta, new_customer, until

TENANT = TenantNames(CLINIC)


async def agent_reply_event(meta: Meta, customer: str) -> tuple[CloudEvent, uuid.UUID]:
    """The customer writes; the stack's agent answers: its reply event, as the senders get it,
    and the conversation."""
    whatsapp = meta.channel(CLINIC, "whatsapp")
    await meta.post(whatsapp_text(whatsapp.object_id, customer, "Cât costă o consultație?"),
                    whatsapp.app_secret)
    await meta.graph.wait_for_calls(1, object_id=whatsapp.object_id, recipient=customer)
    session = await meta.session(CLINIC, "whatsapp", customer)
    assert session is not None
    async with TenantUnitOfWork(meta.db, TENANT) as conn:
        row = await conn.fetchrow("SELECT id, seq, body FROM chat_messages WHERE session_id = $1"
                                  " AND author = 'agent'", session["id"])
    reply = contract.Reply(session_id=session["id"], message_id=row["id"], seq=row["seq"],
                           text_sealed=base64.b64encode(row["body"]).decode(), in_reply_to=None)
    event = CloudEvent(source="/simptu/agent", type=contract.REPLY, tenantid=CLINIC,
                       subject=str(session["id"]), data=reply.model_dump(mode="json"))
    return event, row["id"]


async def set_status(meta: Meta, message_id: uuid.UUID, status: str) -> None:
    async with TenantUnitOfWork(meta.db, TENANT) as conn:
        await conn.execute("UPDATE channel_deliveries SET status = $2 WHERE message_id = $1",
                           message_id, status)


async def status_of(meta: Meta, message_id: uuid.UUID) -> str:
    async with TenantUnitOfWork(meta.db, TENANT) as conn:
        status: str = await conn.fetchval(
            "SELECT status FROM channel_deliveries WHERE message_id = $1", message_id)
    return status


async def test_a_reply_event_delivered_again_is_never_sent_twice(meta: Meta) -> None:
    customer, whatsapp = new_customer(), meta.channel(CLINIC, "whatsapp")
    event, message_id = await agent_reply_event(meta, customer)

    async def read() -> bool:  # the stack's own statuses have all come: none can race ours
        return await status_of(meta, message_id) == "read"

    await until(read)
    async with serve(StandinConfig(status_webhooks=False)) as graph, \
            httpx.AsyncClient(timeout=10) as http:
        graph.state.register(MetaObject(object_id=whatsapp.object_id, kind="whatsapp",
                                        access_token=whatsapp.access_token,
                                        app_secret=whatsapp.app_secret))
        sender = ChannelSender(meta.db, meta.key_ring, ChannelAccounts(meta.db, meta.key_ring),
                               GraphClient(http, graph.url, "v24.0"),
                               TwilioSms("http://127.0.0.1:9", "http://127.0.0.1:9", 1), 2, 0.01)
        # Sent by the stack's sender already: delivered again, nothing is sent.
        assert await sender.handle(event)
        assert graph.state.calls == []
        # Recorded but not sent when a sender stopped: sent now, once.
        await set_status(meta, message_id, "pending")
        await sender.handle(event)
        await sender.handle(event)
        assert len(graph.state.calls) == 1
        assert await status_of(meta, message_id) == "sent"
        # Stopped during the call: maybe delivered, so never again; staff see it uncertain.
        await set_status(meta, message_id, "sending")
        await sender.handle(event)
        assert len(graph.state.calls) == 1
        assert await status_of(meta, message_id) == "uncertain"
