"""The consumer that sends the platform's mails: each event of a tenant's `events` topic that
asks for a mail is recorded (core/mail/records) before the relay is called, so the event
delivered again after a crash sends what was not sent and never repeats a hand-over that may
have happened. A refusal that may pass (4xx, no connection) is tried again with the
consumer's backoff, up to a number of tries; anything else is recorded, never retried."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from email.headerregistry import Address

import asyncpg
import structlog
from jinja2 import TemplateError

from simptu.runtime.channels.email.smtp import MailRelay
from simptu.runtime.channels.metrics import SENDS
from simptu.runtime.channels.platform_mail.compose import Outgoing, composer_of
from simptu.runtime.channels.platform_mail.render import Envelope, MailTemplates, message_of
from simptu.runtime.channels.send_errors import SendError
from simptu.runtime.core.crypto import KeyRing
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.events import CloudEvent
from simptu.runtime.core.mail import records
from simptu.runtime.core.registry import TenantRecord, TenantRegistry, UnknownTenant

log = structlog.get_logger(__name__)
# Message-IDs are made from the event's id: the same mail always has the same id.
MESSAGE_IDS = uuid.UUID("6f2d3c1e-5b7a-4e0f-9a65-3c1f0d8e2b47")


def message_id_of(event_id: str, sender: str) -> str:
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<{uuid.uuid5(MESSAGE_IDS, event_id)}@{domain}>"


@dataclass
class PlatformMailer:
    pool: asyncpg.Pool
    keyring: KeyRing
    registry: TenantRegistry
    relay: MailRelay
    templates: MailTemplates
    sender: str  # the address the platform's mails come from
    attempts: int  # hand-overs the relay refuses for now, before the mail is `failed`
    base_url: str = ""  # the platform's public base URL: its pages' links (none when empty)

    async def handle(self, event: CloudEvent) -> bool:
        """Whether the event was a mail that was handled now."""
        compose = composer_of(event.type)
        if compose is None:
            return False
        try:
            tenant = await self.registry.get(event.tenantid)
        except UnknownTenant:  # deleted since: nobody to mail on its behalf
            log.info("a mail of a tenant that is gone", tenant=event.tenantid, type=event.type)
            return False
        async with TenantUnitOfWork(self.pool, tenant.names) as conn:
            known = await records.of_event(conn, event.id)
            if known is not None and known["status"] in records.FINAL:
                return False
            outgoing = await compose(conn, self.keyring.cipher(tenant.names, conn), tenant, event,
                                     self.base_url)
            if outgoing is None:
                return False
            mail = await records.record(conn, event.id, outgoing.kind,
                                        message_id_of(event.id, self.sender))
        if mail.status != "pending":
            return False  # found being sent by a mailer that stopped: now `uncertain`
        return await self._send(tenant, mail, outgoing)

    async def _send(self, tenant: TenantRecord, mail: records.MailRecord,
                    outgoing: Outgoing) -> bool:
        try:
            rendered = self.templates.render(outgoing.kind, outgoing.locale, outgoing.values)
        except TemplateError as error:
            # Never fillable: recorded, not retried (it would hold up the mails behind it).
            log.error("platform mail cannot be rendered", tenant=tenant.slug,
                      kind=outgoing.kind, error=str(error))
            await self._mark(tenant, mail.event_id, "failed",
                             SendError("permanent", "render", str(error)))
            return True
        envelope = Envelope(Address(tenant.display_name or tenant.slug, addr_spec=self.sender),
                            outgoing.to, mail.message_id, outgoing.locale)
        message = message_of(rendered, envelope, dt.datetime.now(dt.UTC))
        async with TenantUnitOfWork(self.pool, tenant.names) as conn:
            if not await records.claim(conn, mail.event_id):  # committed before the hand-over
                return False
        try:
            await self.relay.send(message)
        except SendError as error:
            SENDS.labels(f"mail-{outgoing.kind}", error.kind).inc()
            if error.kind in ("transient", "throttled") and mail.attempts + 1 < self.attempts:
                await self._mark(tenant, mail.event_id, "pending", error)
                raise  # the consumer fetches the event again after its backoff
            status = "uncertain" if error.kind == "uncertain" else "failed"
            log.warning("platform mail not sent", tenant=tenant.slug, kind=outgoing.kind,
                        status=status, code=error.code)
            await self._mark(tenant, mail.event_id, status, error)
            return True
        await self._mark(tenant, mail.event_id, "sent")
        SENDS.labels(f"mail-{outgoing.kind}", "sent").inc()
        return True

    async def _mark(self, tenant: TenantRecord, event_id: str, status: str,
                    error: SendError | None = None) -> None:
        async with TenantUnitOfWork(self.pool, tenant.names) as conn:
            await records.mark(conn, event_id, status,
                               error_code=error.code if error else None,
                               error_detail=error.detail if error else None)
