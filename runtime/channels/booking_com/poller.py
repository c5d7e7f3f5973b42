"""The Booking.com poller: for every Ready tenant with a Booking.com account, the reservations
of both OTA feeds are applied (each in its own committed unit of work) and only then
acknowledged, and the guest messages of the messaging API are posted to their conversations
and only then confirmed. A poller that stops between the two gets the same items again, and
applying or posting them again changes nothing (by reservation id, by message id)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

import structlog

from simptu.runtime.channels.booking_com.client import BookingComClient
from simptu.runtime.channels.booking_com.ota import (
    FEEDS,
    SOURCE,
    Feed,
    OtaError,
    acknowledgement,
    parse_feed,
)
from simptu.runtime.channels.rounds import every_ready_tenant
from simptu.runtime.channels.send_errors import SendError
from simptu.runtime.core.channels.accounts import ChannelAccount, ChannelAccounts
from simptu.runtime.core.channels.contacts import Contact, receive_message
from simptu.runtime.core.channels.faults import record_fault
from simptu.runtime.core.chat.actions import ChatRefused, Conversations
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.registry import TenantRecord, TenantRegistry
from simptu.runtime.core.reservations import apply_reservation
from simptu.runtime.core.reservations.staff import leave_with_staff

log = structlog.get_logger(__name__)

CHANNEL = "booking_com"


@dataclass(frozen=True)
class Polled:
    """What one round did for a tenant."""

    reservations: int = 0
    messages: int = 0


@dataclass(frozen=True)
class BookingComPoller:
    registry: TenantRegistry
    accounts: ChannelAccounts
    conversations: Conversations
    client: BookingComClient

    async def run(self, interval: float) -> None:
        """Until cancelled: every `interval` seconds, a round for every tenant."""
        await every_ready_tenant(self.conversations.pool, self.registry, interval, self.poll,
                                 "booking.com")

    async def poll(self, tenant: TenantRecord) -> Polled:
        """One round for `tenant`: both reservation feeds, then its guest messages."""
        account = await self.accounts.get(tenant.names, CHANNEL)
        if account is None:
            return Polled()
        stored = 0
        try:
            for feed in FEEDS:  # new ones first: a modification finds its reservation
                stored += await self.reservations(tenant, account, feed)
            return Polled(stored, await self.messages(tenant, account))
        except SendError as error:
            if error.kind != "bad-token":
                raise
            # Only people can fix it: the operator shows it in the Tenant's conditions.
            await record_fault(self.conversations.pool, tenant.slug, CHANNEL, error.code,
                               "Booking.com refused the machine account")
            log.warning("booking.com refused the machine account", tenant=tenant.slug)
            return Polled(stored)

    async def reservations(self, tenant: TenantRecord, account: ChannelAccount,
                           feed: Feed) -> int:
        """Apply the feed's reservations, then acknowledge the ones applied; how many."""
        try:
            notifications = parse_feed(await self.client.reservations(account, feed), feed)
        except OtaError as error:
            log.warning("booking.com feed not understood", tenant=tenant.slug, feed=feed,
                        error=str(error))
            return 0
        stored = []
        tz = zoneinfo.ZoneInfo(tenant.timezone)
        for notification in notifications:
            if notification.property_id not in ("", account.account_id):
                log.warning("a reservation of another property", tenant=tenant.slug)
                continue
            if not notification.reservation_id:
                log.warning("a reservation without an id", tenant=tenant.slug, feed=feed)
                continue
            async with TenantUnitOfWork(self.conversations.pool, tenant.names) as conn:
                if notification.reservation is None:
                    await leave_with_staff(conn, tenant.names, SOURCE,
                                           notification.reservation_id, notification.problem)
                else:
                    cipher = self.conversations.keyring.cipher(tenant.names, conn)
                    applied = await apply_reservation(conn, cipher, tenant.names, tz,
                                                      notification.reservation)
                    log.info("booking.com reservation", tenant=tenant.slug, feed=feed,
                             outcome=applied.outcome)
            stored.append(notification.reservation_id)
        if stored:  # committed above: a stop before this gets them again, applied once
            await self.client.acknowledge(account, feed, acknowledgement(feed, stored))
        return len(stored)

    async def messages(self, tenant: TenantRecord, account: ChannelAccount) -> int:
        """Post the guests' new messages to their conversations, then confirm the batch."""
        batch = await self.client.latest_messages(account)
        posted = 0
        for message in batch.messages:
            posted += await self._guest_message(tenant, account, message)
        if batch.messages:
            await self.client.confirm_messages(account, batch)
        return posted

    async def _guest_message(self, tenant: TenantRecord, account: ChannelAccount,
                             message: dict[str, Any]) -> int:
        sender = message.get("sender") or {}
        kind = str((sender.get("metadata") or {}).get("participant_type") or "").casefold()
        conversation = message.get("conversation") or {}
        conversation_id = str(conversation.get("conversation_id") or "")
        text = str(message.get("content") or "")
        if kind != "guest" or not conversation_id or not text.strip():
            return 0  # the property's own messages (our replies), or nothing to read
        if str(conversation.get("property_id") or account.account_id) != account.account_id:
            return 0
        contact = Contact(CHANNEL, conversation_id, tenant.locale)
        try:
            received = await receive_message(self.conversations, tenant, contact,
                                             str(message.get("message_id")), text,
                                             _when(message.get("timestamp")))
        except ChatRefused as refusal:  # too long, say: never postable, never retried
            log.warning("guest message refused", tenant=tenant.slug, reason=refusal.reason)
            return 0
        return 1 if received else 0


def _when(stamp: Any) -> dt.datetime:
    try:
        at = dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return dt.datetime.now(dt.UTC)
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)

