"""Each customer on each channel is one conversation: found again by the blind index of their
id there (a phone number, a page-scoped id, an address), which is kept sealed for replying.
A message from a provider is posted through the one use case every transport calls, with the
provider's message id as its client id, so a webhook delivered again stores nothing twice."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg

from simptu.runtime.core.chat import store
from simptu.runtime.core.chat.access import Principal
from simptu.runtime.core.chat.actions import Conversations, Posted
from simptu.runtime.core.crypto import TenantCipher
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.registry import TenantRecord

# The blind-index column of each channel's customer ids: phone numbers share the customers'
# phone index, so a WhatsApp or SMS customer can be matched to their customer record.
INDEX_COLUMNS = {"whatsapp": "phone", "sms": "phone", "voice": "phone", "email": "email"}
CLIENT_ID_LIMIT = 100  # chat_messages.client_msg_id


@dataclass(frozen=True)
class Contact:
    """A customer as a channel knows them: `address` is their id there."""

    channel: str
    address: str
    locale: str


@dataclass(frozen=True)
class Conversation:
    session_id: uuid.UUID
    customer: Principal
    # When the customer last wrote before this message (None for a new conversation).
    previous_inbound_at: dt.datetime | None


PHONE_CHANNELS = ("whatsapp", "sms", "voice")


async def phone_of(cipher: TenantCipher, session: asyncpg.Record) -> str | None:
    """The customer's phone number (E.164) when the conversation's channel tells it."""
    if session["channel"] not in PHONE_CHANNELS or session["contact"] is None:
        return None
    address = await cipher.open_text(store.SESSIONS, "contact", session["id"], session["contact"])
    return address if address.startswith("+") else f"+{address}"  # WhatsApp ids are digits


async def email_of(cipher: TenantCipher, session: asyncpg.Record) -> str | None:
    """The customer's e-mail address when the conversation is by mail."""
    if session["channel"] != "email" or session["contact"] is None:
        return None
    return await cipher.open_text(store.SESSIONS, "contact", session["id"], session["contact"])


def customer_subject(contact: Contact, index: bytes) -> str:
    """The conversation's owner as the chat rules see it, with no id in clear."""
    return f"{contact.channel}:{index.hex()[:40]}"


async def contact_index(cipher: TenantCipher, contact: Contact) -> bytes:
    return await cipher.blind_index(INDEX_COLUMNS.get(contact.channel, "channel_contact"),
                                    contact.address)


async def open_conversation(conn: asyncpg.Connection, cipher: TenantCipher, tenant: TenantRecord,
                            contact: Contact, index: bytes, at: dt.datetime) -> Conversation:
    """Inside a tenant unit of work: the customer's open conversation on the channel (`index`
    their contact index), opened if there is none, with `at` recorded as their latest message
    (never moved back)."""
    subject = customer_subject(contact, index)
    row = await open_session_of(conn, contact.channel, index)
    if row is None:
        session_id = uuid.uuid4()
        sealed = await cipher.seal(store.SESSIONS, "contact", session_id, contact.address)
        # Two first messages at once: the unique index lets one insert win; the other reads
        # the winner's row (locked, so once it committed).
        row = await conn.fetchrow(
            "INSERT INTO chat_sessions (id, channel, locale, owner_subject, contact, "
            "contact_index) VALUES ($1, $2, $3, $4, $5, $6) "
            "ON CONFLICT (channel, contact_index) WHERE contact_index IS NOT NULL "
            "AND status <> 'closed' DO NOTHING RETURNING id, last_inbound_at",
            session_id, contact.channel, contact.locale, subject, sealed, index)
        if row is None:
            row = await open_session_of(conn, contact.channel, index)
        assert row is not None, "inserted or found by the unique index"
    await conn.execute(
        "UPDATE chat_sessions SET last_inbound_at = GREATEST(last_inbound_at, $2) WHERE id = $1",
        row["id"], at)
    return Conversation(row["id"], Principal(tenant.slug, subject, frozenset({"customer"})),
                        row["last_inbound_at"])


async def open_session_of(conn: asyncpg.Connection, channel: str,
                          index: bytes) -> asyncpg.Record | None:
    """The customer's open conversation on the channel, locked, if there is one."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT id, last_inbound_at FROM chat_sessions WHERE channel = $1 AND contact_index = $2 "
        "AND status <> 'closed' FOR UPDATE", channel, index)
    return row


async def seen_before(conn: asyncpg.Connection, contact: Contact, index: bytes,
                      client_id: str) -> bool:
    """Whether this provider message was posted already, in any of the customer's
    conversations (a redelivery after the conversation was closed included)."""
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM chat_messages m JOIN chat_sessions s ON s.id = m.session_id"
        " WHERE s.channel = $1 AND s.contact_index = $2 AND m.client_msg_id = $3)",
        contact.channel, index, client_id))


@dataclass(frozen=True)
class Received:
    session_id: uuid.UUID
    posted: Posted


# What a channel keeps of a message beside it (e-mail: its headers), stored in the transaction
# that finds its conversation, before the message is posted.
KeepWithConversation = Callable[[asyncpg.Connection, TenantCipher, uuid.UUID], Awaitable[None]]


def client_id_of(contact: Contact, provider_message_id: str) -> str:
    """The message's client id in its conversation: the provider's id, on its channel."""
    return f"{contact.channel}:{provider_message_id}"[:CLIENT_ID_LIMIT]


async def receive_message(conversations: Conversations, tenant: TenantRecord, contact: Contact,
                          provider_message_id: str, text: str, at: dt.datetime,
                          index: bytes | None = None,
                          keep: KeepWithConversation | None = None) -> Received | None:
    """A customer's message from a provider, posted once however often it is delivered, and
    its conversation; None when it was posted before. `index`: the conversation's key when
    the channel has many per customer (e-mail: one per thread), else their contact index;
    `keep`: what the channel stores with the conversation before the message is posted (so
    the agent's answer finds it)."""
    client_id = client_id_of(contact, provider_message_id)
    async with TenantUnitOfWork(conversations.pool, tenant.names) as conn:
        cipher = conversations.keyring.cipher(tenant.names, conn)
        index = index or await contact_index(cipher, contact)
        if await seen_before(conn, contact, index, client_id):
            return None
        conversation = await open_conversation(conn, cipher, tenant, contact, index, at)
        if keep is None:  # one transaction: the conversation found or opened, and the post
            conversations.check_post(conversation.customer, text)
            posted = await conversations.post_in(conn, tenant, conversation.customer,
                                                 conversation.session_id, text,
                                                 client_msg_id=client_id)
            return None if posted.duplicate else Received(conversation.session_id, posted)
        # What the channel keeps is committed first: a post that fails is retried from it.
        await keep(conn, cipher, conversation.session_id)
    posted = await conversations.post_message(tenant, conversation.customer,
                                              conversation.session_id, text,
                                              client_msg_id=client_id)
    return None if posted.duplicate else Received(conversation.session_id, posted)
