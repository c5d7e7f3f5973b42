"""What no machine should decide is left with the hotel's staff: a reservation that cannot be
booked (recorded with why, and announced on the tenant's `events` topic so the inbox hears of
it), and a mail that claims to be a reservation but is not one we can trust or read (a
conversation with its sender, handed off to staff before the mail is posted, so the agent
never answers it)."""

from __future__ import annotations

import datetime as dt

import asyncpg

from simptu.runtime.core.channels.contacts import (
    Contact,
    Received,
    contact_index,
    open_conversation,
    receive_message,
)
from simptu.runtime.core.chat import store
from simptu.runtime.core.chat.actions import Conversations, hand_off_in
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.events import CloudEvent, enqueue
from simptu.runtime.core.registry import TenantRecord
from simptu.runtime.core.tenancy import TenantNames

EVENT_SOURCE = "/simptu/reservations"
WITH_STAFF = "io.simptu.reservation.with_staff"
# Who handed a conversation to staff, as its `handed_off_by`.
HANDED_BY = "system:reservations"


async def announce_with_staff(conn: asyncpg.Connection, tenant: TenantNames, source: str,
                              reservation_id: str, detail: str) -> None:
    """In the unit of work that recorded it: staff must look at this reservation (ids and the
    reason only: no personal data travels in events)."""
    event = CloudEvent(source=EVENT_SOURCE, type=WITH_STAFF, tenantid=tenant.slug,
                       subject=f"{source}:{reservation_id}",
                       data={"source": source, "reservation_id": reservation_id,
                             "detail": detail})
    await enqueue(conn, event, tenant.topic("events"), f"{source}:{reservation_id}")


async def leave_with_staff(conn: asyncpg.Connection, tenant: TenantNames, source: str,
                           reservation_id: str, detail: str) -> None:
    """A notification of a reservation that could not be read: recorded (what was booked of
    it stays booked) and announced."""
    await conn.execute(
        "INSERT INTO reservations (source, reservation_id, status, detail) VALUES ($1, $2, "
        "'with_staff', $3) ON CONFLICT (source, reservation_id) DO UPDATE SET "
        "detail = EXCLUDED.detail, updated_at = now()", source, reservation_id, detail)
    await announce_with_staff(conn, tenant, source, reservation_id, detail)


async def hand_mail_to_staff(conversations: Conversations, tenant: TenantRecord,
                             contact: Contact, message_id: str, text: str,
                             note: str) -> Received | None:
    """The mail as a message of a conversation with its sender that staff hold (`note` says
    why); None when it was handed over before."""
    at = dt.datetime.now(dt.UTC)
    async with TenantUnitOfWork(conversations.pool, tenant.names) as conn:
        cipher = conversations.keyring.cipher(tenant.names, conn)
        conversation = await open_conversation(conn, cipher, tenant, contact,
                                               await contact_index(cipher, contact), at)
        session = await store.get_session(conn, conversation.session_id, for_update=True)
        if session is not None and session["status"] == "open":
            sealed = await cipher.seal(store.SESSIONS, "handoff_note", session["id"], note)
            await hand_off_in(conn, tenant, session["id"], HANDED_BY,
                              source=conversations.source, sealed_note=sealed)
    return await receive_message(conversations, tenant, contact, message_id, text, at)
