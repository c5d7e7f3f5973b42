"""Booking reminders on WhatsApp: within a day before a booking whose customer has a WhatsApp
conversation with the tenant, the tenant's approved reminder template is sent to them, once
(the send is recorded like any reply, under the booking's id, before the call). A booking
cancelled before its reminder is due gets none."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

import asyncpg
import structlog

from simptu.runtime.channels.meta.graph import GraphClient, GraphError
from simptu.runtime.channels.metrics import SENDS
from simptu.runtime.channels.rounds import every_ready_tenant
from simptu.runtime.core.channels import deliveries
from simptu.runtime.core.channels.accounts import ChannelAccount, ChannelAccounts
from simptu.runtime.core.chat import store
from simptu.runtime.core.crypto import KeyRing
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.registry import TenantRecord, TenantRegistry

log = structlog.get_logger(__name__)

# Bookings due within the lead time ($1), not reminded yet (a reminder's delivery record has
# the booking's id as its message id), with the customer's latest WhatsApp conversation and
# the service's name in the template's language ($2).
DUE = """
    SELECT b.id, b.start_at, COALESCE(sv.names ->> $2, sv.name) AS service,
           s.id AS session_id, s.contact
    FROM bookings b
    JOIN services sv ON sv.id = b.service_id
    JOIN LATERAL (SELECT id, contact FROM chat_sessions
                  WHERE customer_id = b.customer_id AND channel = 'whatsapp'
                  AND contact IS NOT NULL ORDER BY updated_at DESC LIMIT 1) s ON true
    WHERE b.status = 'booked' AND b.start_at > now() AND b.start_at <= now() + $1::interval
      AND NOT EXISTS (SELECT 1 FROM channel_deliveries d WHERE d.message_id = b.id)
    ORDER BY b.start_at LIMIT 100"""


@dataclass(frozen=True)
class Reminders:
    pool: asyncpg.Pool
    keyring: KeyRing
    registry: TenantRegistry
    accounts: ChannelAccounts
    graph: GraphClient
    lead: dt.timedelta

    async def run(self, interval: float) -> None:
        """Until cancelled: every `interval` seconds, remind whoever is due."""
        await every_ready_tenant(self.pool, self.registry, interval, self.remind, "reminders")

    async def remind(self, tenant: TenantRecord) -> int:
        """Send the tenant's due reminders; how many were sent."""
        account = await self.accounts.get(tenant.names, "whatsapp")
        if account is None or not account.credential("reminderTemplate"):
            return 0
        async with TenantUnitOfWork(self.pool, tenant.names) as conn:
            language = account.credential("reminderLanguage") or tenant.locale
            due = await conn.fetch(DUE, self.lead, language[:2])
            if not due:
                return 0
            cipher = self.keyring.cipher(tenant.names, conn)
            work = []
            for row in due:
                [part] = await deliveries.record_parts(conn, row["session_id"], "whatsapp",
                                                       row["id"], 1)
                recipient = await cipher.open_text(store.SESSIONS, "contact", row["session_id"],
                                                   row["contact"])
                work.append((part, recipient, row))
        sent = 0
        for part, recipient, row in work:
            if part.status == "pending":
                sent += await self._send(tenant, account, part, recipient, row)
        return sent

    async def _send(self, tenant: TenantRecord, account: ChannelAccount,
                    part: deliveries.Part, recipient: str, row: asyncpg.Record) -> int:
        when = row["start_at"].astimezone(zoneinfo.ZoneInfo(tenant.timezone))
        async with TenantUnitOfWork(self.pool, tenant.names) as conn:
            await deliveries.mark(conn, part, "sending")
        try:
            provider_id = await self.graph.send_whatsapp_template(
                account.account_id, account.credential("accessToken") or "", recipient,
                account.credential("reminderTemplate") or "",
                account.credential("reminderLanguage") or tenant.locale,
                [row["service"], f"{when:%d.%m.%Y %H:%M}"])
        except GraphError as error:
            SENDS.labels("whatsapp-reminder", error.kind).inc()
            status = "uncertain" if error.kind == "uncertain" else "failed"
            async with TenantUnitOfWork(self.pool, tenant.names) as conn:
                await deliveries.mark(conn, part, status, error_code=error.code,
                                      error_detail=error.detail)
            return 0
        async with TenantUnitOfWork(self.pool, tenant.names) as conn:
            await deliveries.mark(conn, part, "sent", provider_message_id=provider_id)
        SENDS.labels("whatsapp-reminder", "sent").inc()
        return 1
