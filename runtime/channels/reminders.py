"""Booking reminders: within a day before a booking, its customer is reminded once on the
channel they last wrote on: on WhatsApp with the tenant's approved reminder template, by SMS
(a text in the tenant's language) when they texted or called one of its Twilio numbers. The
send is recorded like any reply, under the booking's id, before the call. A booking cancelled
before its reminder is due gets none; a number that texted STOP gets no text."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

import asyncpg
import structlog

from simptu.runtime.channels.meta.graph import GraphClient
from simptu.runtime.channels.metrics import SENDS
from simptu.runtime.channels.rounds import every_ready_tenant
from simptu.runtime.channels.send_errors import SendError
from simptu.runtime.channels.twilio.sms import TwilioSms
from simptu.runtime.core.channels import deliveries
from simptu.runtime.core.channels.accounts import ChannelAccount, ChannelAccounts
from simptu.runtime.core.channels.contacts import Contact
from simptu.runtime.core.channels.opt_outs import opt_out, opted_out
from simptu.runtime.core.chat import store
from simptu.runtime.core.crypto import KeyRing
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.registry import TenantRecord, TenantRegistry

log = structlog.get_logger(__name__)

# Bookings due within the lead time ($1), not reminded yet (a reminder's delivery record has
# the booking's id as its message id; one still pending on channel $4, after a crash or a
# throttled send, is tried again, at most $5 times), with the customer's latest conversation
# on one of the channels $3 and the service's name in the reminder's language ($2).
DUE = """
    SELECT b.id, b.start_at, COALESCE(sv.names ->> $2, sv.name) AS service,
           s.id AS session_id, s.contact
    FROM bookings b
    JOIN services sv ON sv.id = b.service_id
    JOIN LATERAL (SELECT id, contact FROM chat_sessions
                  WHERE customer_id = b.customer_id AND channel = ANY($3::text[])
                  AND contact IS NOT NULL ORDER BY updated_at DESC LIMIT 1) s ON true
    WHERE b.status = 'booked' AND b.start_at > now() AND b.start_at <= now() + $1::interval
      AND NOT EXISTS (SELECT 1 FROM channel_deliveries d WHERE d.message_id = b.id
                      AND (d.status <> 'pending' OR d.channel <> $4 OR d.attempts >= $5))
    ORDER BY b.start_at LIMIT 100"""
# How often a reminder the provider throttled (or that never reached it) is tried, one round
# apart.
ATTEMPTS = 5
# Texted reminders; the customer's number is the one they texted or called from.
SMS_CHANNELS = ["sms", "voice"]
SMS_TEXT = {"ro": "{name}: vă reamintim programarea pentru {service}, {when}. "
                  "Răspundeți STOP ca să nu mai primiți mesaje.",
            "en": "{name}: a reminder of your booking for {service}, {when}. "
                  "Reply STOP to opt out."}


@dataclass(frozen=True)
class Due:
    """A reminder to send: its delivery record, the customer's address, the booking's row."""

    part: deliveries.Part
    recipient: str
    row: asyncpg.Record


@dataclass(frozen=True)
class Reminders:
    pool: asyncpg.Pool
    keyring: KeyRing
    registry: TenantRegistry
    accounts: ChannelAccounts
    graph: GraphClient
    lead: dt.timedelta
    sms: TwilioSms | None = None

    async def run(self, interval: float) -> None:
        """Until cancelled: every `interval` seconds, remind whoever is due."""
        await every_ready_tenant(self.pool, self.registry, interval, self.remind, "reminders")

    async def remind(self, tenant: TenantRecord) -> int:
        """Send the tenant's due reminders, WhatsApp first; how many were sent."""
        sent = 0
        whatsapp = await self.accounts.get(tenant.names, "whatsapp")
        if whatsapp is not None and whatsapp.credential("reminderTemplate"):
            language = whatsapp.credential("reminderLanguage") or tenant.locale
            for due in await self._due(tenant, "whatsapp", ["whatsapp"], language):
                if due.part.status == "pending":
                    sent += await self._send_template(tenant, whatsapp, due)
        texts = await self.accounts.get(tenant.names, "sms")
        if texts is not None and self.sms is not None:
            for due in await self._due(tenant, "sms", SMS_CHANNELS, tenant.locale):
                if due.part.status == "pending":
                    sent += await self._send_text(tenant, texts, due)
        return sent

    async def _due(self, tenant: TenantRecord, channel: str, conversations: list[str],
                   language: str) -> list[Due]:
        """The due bookings of customers with a conversation on `conversations`, each
        recorded as a pending `channel` delivery (or as it stands)."""
        async with TenantUnitOfWork(self.pool, tenant.names) as conn:
            rows = await conn.fetch(DUE, self.lead, language[:2], conversations, channel,
                                    ATTEMPTS)
            cipher = self.keyring.cipher(tenant.names, conn)
            found = []
            for row in rows:
                [part] = await deliveries.record_parts(conn, row["session_id"], channel,
                                                       row["id"], 1)
                recipient = await cipher.open_text(store.SESSIONS, "contact", row["session_id"],
                                                   row["contact"])
                found.append(Due(part, recipient, row))
        return found

    async def _send_template(self, tenant: TenantRecord, account: ChannelAccount,
                             due: Due) -> int:
        when = due.row["start_at"].astimezone(zoneinfo.ZoneInfo(tenant.timezone))
        if not await self._claim(tenant, due):
            return 0
        try:
            provider_id = await self.graph.send_whatsapp_template(
                account.account_id, account.credential("accessToken") or "", due.recipient,
                account.credential("reminderTemplate") or "",
                account.credential("reminderLanguage") or tenant.locale,
                [due.row["service"], f"{when:%d.%m.%Y %H:%M}"])
        except SendError as error:
            return await self._failed(tenant, "whatsapp-reminder", due, error)
        await self._mark(tenant, due, "sent", provider_id=provider_id)
        SENDS.labels("whatsapp-reminder", "sent").inc()
        return 1

    async def _send_text(self, tenant: TenantRecord, account: ChannelAccount, due: Due) -> int:
        assert self.sms is not None, "texts are sent only with an SMS client"
        contact = Contact("sms", due.recipient, tenant.locale)
        async with TenantUnitOfWork(self.pool, tenant.names) as conn:
            stopped = await opted_out(conn, self.keyring.cipher(tenant.names, conn), contact)
        if stopped:
            await self._mark(tenant, due, "refused", code="opted-out",
                             detail="the customer texted STOP: no texts until START")
            return 0
        when = due.row["start_at"].astimezone(zoneinfo.ZoneInfo(tenant.timezone))
        words = SMS_TEXT["ro" if tenant.locale.startswith("ro") else "en"]
        text = words.format(name=tenant.display_name, service=due.row["service"],
                            when=f"{when:%d.%m.%Y %H:%M}")
        if not await self._claim(tenant, due):
            return 0
        try:
            provider_id = await self.sms.send(account, due.recipient, text)
        except SendError as error:
            if error.kind == "opted-out":  # Twilio knows the number unsubscribed
                async with TenantUnitOfWork(self.pool, tenant.names) as conn:
                    await opt_out(conn, self.keyring.cipher(tenant.names, conn), contact)
            return await self._failed(tenant, "sms-reminder", due, error)
        await self._mark(tenant, due, "sent", provider_id=provider_id)
        SENDS.labels("sms-reminder", "sent").inc()
        return 1

    async def _claim(self, tenant: TenantRecord, due: Due) -> bool:
        """Whether this process sends the reminder (another replica may have claimed it)."""
        async with TenantUnitOfWork(self.pool, tenant.names) as conn:
            return await deliveries.claim(conn, due.part)

    async def _failed(self, tenant: TenantRecord, kind: str, due: Due, error: SendError) -> int:
        """Recorded; throttled or never reached the provider: pending again, for the next
        round; anything else is final (a reminder that may have gone out is never resent)."""
        SENDS.labels(kind, error.kind).inc()
        status = {"uncertain": "uncertain", "opted-out": "refused", "throttled": "pending",
                  "transient": "pending"}.get(error.kind, "failed")
        log.warning("reminder not sent", tenant=tenant.slug, kind=kind, code=error.code)
        await self._mark(tenant, due, status, code=error.code, detail=error.detail)
        return 0

    async def _mark(self, tenant: TenantRecord, due: Due, status: str, *,
                    provider_id: str | None = None, code: str | None = None,
                    detail: str | None = None) -> None:
        async with TenantUnitOfWork(self.pool, tenant.names) as conn:
            await deliveries.mark(conn, due.part, status, provider_message_id=provider_id,
                                  error_code=code, error_detail=detail)
