"""The channel senders: a reply of the agent, or a staff member's message, in a conversation on
a messaging channel goes out through the provider's API. Each part is recorded before it is
sent (core/channels/deliveries), so the event delivered again after a crash sends what was not
sent and never what may have been. Streaming deltas are not sent: the whole reply is."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

import asyncpg
import structlog

from simptu.runtime.channels.booking_com.client import BookingComClient
from simptu.runtime.channels.email.replies import EmailReplies
from simptu.runtime.channels.meta.graph import GraphClient
from simptu.runtime.channels.metrics import SENDS
from simptu.runtime.channels.send_errors import SendError
from simptu.runtime.channels.text_parts import split_text, utf8_bytes, utf16_units
from simptu.runtime.channels.twilio.sms import TwilioSms, part_limit
from simptu.runtime.core.channels import deliveries
from simptu.runtime.core.channels.accounts import ChannelAccount, ChannelAccounts
from simptu.runtime.core.channels.contacts import Contact
from simptu.runtime.core.channels.deliveries import Part
from simptu.runtime.core.channels.faults import record_fault
from simptu.runtime.core.channels.opt_outs import opt_out, opted_out
from simptu.runtime.core.channels.texts import TEXT_REQUESTED, TextRequested, open_request
from simptu.runtime.core.chat import conversation as contract
from simptu.runtime.core.chat import store
from simptu.runtime.core.crypto import KeyRing
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.events import CloudEvent
from simptu.runtime.core.events.idempotency import MARK_PROCESSED
from simptu.runtime.core.tenancy import TenantNames

log = structlog.get_logger(__name__)

# What fits in one message on each channel (Instagram counts UTF-8 bytes; an SMS part is at
# most 10 segments of its encoding).
LIMITS = {"whatsapp": 4096, "messenger": 1999, "instagram": 1000, "sms": 1530,
          "email": 100_000, "booking_com": 4000}
# Channels with Meta's customer service window.
WINDOWED = ("whatsapp", "messenger", "instagram")
# How many conversations not on a messaging channel a sender remembers.
NOT_OURS_KEPT = 20_000
# The idempotency records of texts sent outside conversations.
TEXTS_CONSUMER = "channel-texts"
WINDOW = dt.timedelta(hours=24)
HUMAN_AGENT_WINDOW = dt.timedelta(days=7)


@dataclass(frozen=True)
class Outgoing:
    """A message to deliver: who wrote it and the session it belongs to."""

    session_id: uuid.UUID
    message_id: uuid.UUID
    author: str
    body_sealed: str  # base64, as the event carries it


def outgoing_of(event: CloudEvent) -> Outgoing | None:
    """The message an outbound event asks to deliver, if any: the agent's whole reply, or
    what staff wrote (the customer's own messages and the streamed deltas are not sent)."""
    if event.type == contract.REPLY:
        reply = contract.Reply.model_validate(event.data)
        return Outgoing(reply.session_id, reply.message_id, "agent", reply.text_sealed)
    if event.type == contract.MESSAGE_POSTED:
        posted = contract.MessagePosted.model_validate(event.data)
        if posted.author == "staff":
            return Outgoing(posted.session_id, posted.message_id, "staff", posted.body_sealed)
    return None


class Refusal(Exception):
    """A part that may not be sent (the provider's window is closed, the customer opted out)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


def human_agent_tag(channel: str, author: str, since_customer: dt.timedelta) -> bool:
    """Whether a send needs Messenger's HUMAN_AGENT tag; Refusal when nothing may be sent:
    free-form messages only within 24 h of the customer's last one; after that a person (never
    the bot) may answer on Messenger and Instagram for up to 7 days."""
    if channel not in WINDOWED or since_customer <= WINDOW:
        return False
    if channel != "whatsapp" and author == "staff" and since_customer <= HUMAN_AGENT_WINDOW:
        return True
    hours = int(since_customer.total_seconds() // 3600)
    raise Refusal("window-closed", f"the customer last wrote {hours} h ago: {channel} allows "
                  "free-form replies only within 24 h of it" + (
                      " (a WhatsApp template is needed)" if channel == "whatsapp" else
                      " (staff may answer for 7 days)"))


@dataclass
class ChannelSender:
    pool: asyncpg.Pool
    keyring: KeyRing
    accounts: ChannelAccounts
    graph: GraphClient
    sms: TwilioSms
    throttle_attempts: int
    throttle_backoff: float
    mail: EmailReplies | None = None
    # Replies in Booking.com guest conversations (its messaging API).
    booking_com: BookingComClient | None = None
    # Conversations known not to be on a messaging channel (web chat: most replies), so their
    # replies cost no database round trip here; a session's channel never changes.
    _not_ours: OrderedDict[uuid.UUID, None] = field(default_factory=OrderedDict, init=False)

    async def handle(self, event: CloudEvent) -> bool:
        if event.type == TEXT_REQUESTED:
            return await self._requested_text(TenantNames(event.tenantid), event)
        outgoing = outgoing_of(event)
        if outgoing is None:
            return False
        tenant = TenantNames(event.tenantid)
        prepared = await self._prepare(tenant, outgoing)
        if prepared is None:
            return False
        account, recipient, texts, parts, since = prepared
        try:
            tag = human_agent_tag(account.channel, outgoing.author, since)
            await self._may_text(tenant, account.channel, recipient)
        except Refusal as refusal:  # what was sent before stays as it was
            pending = [part for part in parts if part.status == "pending"]
            await self._settle(tenant, pending, "refused", code=refusal.code,
                               detail=refusal.detail)
            return True
        for part in parts:
            if part.status == "pending":
                await self._send_part(tenant, account, recipient, texts[part.index], part, tag)
        return True

    async def _requested_text(self, tenant: TenantNames, event: CloudEvent) -> bool:
        """A text outside any conversation (an access code): sent at most once (marked
        before the call; a failure that surely sent nothing takes the mark back)."""
        account = await self.accounts.get(tenant, "sms")
        if account is None:
            log.warning("a text was asked for a tenant without SMS", tenant=tenant.slug)
            return False
        request = TextRequested.model_validate(event.data)
        async with TenantUnitOfWork(self.pool, tenant) as conn:
            if not await conn.fetchval(MARK_PROCESSED, TEXTS_CONSUMER, event.id):
                return False  # sent (or tried) before
            to, text = await open_request(self.keyring.cipher(tenant, conn), request)
        try:
            await self._may_text(tenant, "sms", to)
            await self.sms.send(account, to, text)
        except Refusal as refusal:
            log.info("requested text not sent", tenant=tenant.slug, reason=refusal.code)
        except SendError as error:
            SENDS.labels("sms-text", error.kind).inc()
            if error.kind in ("throttled", "transient"):
                async with TenantUnitOfWork(self.pool, tenant) as conn:
                    await conn.execute("DELETE FROM processed_events WHERE consumer = $1 "
                                       "AND event_id = $2", TEXTS_CONSUMER, event.id)
                raise
            log.warning("requested text failed", tenant=tenant.slug, kind=error.kind,
                        code=error.code)
        else:
            SENDS.labels("sms-text", "sent").inc()
        return True

    def _remember_not_ours(self, session_id: uuid.UUID) -> None:
        self._not_ours[session_id] = None
        if len(self._not_ours) > NOT_OURS_KEPT:
            self._not_ours.popitem(last=False)

    async def _may_text(self, tenant: TenantNames, channel: str, recipient: str) -> None:
        if channel != "sms":
            return
        async with TenantUnitOfWork(self.pool, tenant) as conn:
            if await opted_out(conn, self.keyring.cipher(tenant, conn),
                               Contact(channel, recipient, "")):
                raise Refusal("opted-out", "the customer texted STOP: no texts until START")

    async def _prepare(self, tenant: TenantNames, outgoing: Outgoing) -> tuple[
            ChannelAccount, str, list[str], list[Part], dt.timedelta] | None:
        if outgoing.session_id in self._not_ours:
            return None
        async with TenantUnitOfWork(self.pool, tenant) as conn:
            session = await conn.fetchrow(
                "SELECT channel, contact, last_inbound_at FROM chat_sessions WHERE id = $1",
                outgoing.session_id)
            if session is None or session["channel"] not in LIMITS or session["contact"] is None:
                self._remember_not_ours(outgoing.session_id)
                return None  # web chat (the hub delivers it) or not a channel conversation
            account = await self.accounts.get(tenant, session["channel"])
            if account is None:
                log.warning("no account for the channel", tenant=tenant.slug,
                            channel=session["channel"])
                return None
            cipher = self.keyring.cipher(tenant, conn)
            text = await contract.open_text(cipher, outgoing.message_id, outgoing.body_sealed)
            recipient = await cipher.open_text(store.SESSIONS, "contact", outgoing.session_id,
                                                session["contact"])
            channel = session["channel"]
            size = {"instagram": utf8_bytes, "sms": utf16_units}.get(channel, len)
            limit = part_limit(text) if channel == "sms" else LIMITS[channel]
            texts = split_text(text, limit, size)
            parts = await deliveries.record_parts(conn, outgoing.session_id, channel,
                                                  outgoing.message_id, len(texts))
        last = session["last_inbound_at"] or dt.datetime.now(dt.UTC)
        return account, recipient, texts, parts, dt.datetime.now(dt.UTC) - last

    async def _send_part(self, tenant: TenantNames, account: ChannelAccount, recipient: str,
                         text: str, part: Part, human_agent: bool) -> None:
        for attempt in range(1, self.throttle_attempts + 1):
            await self._settle(tenant, [part], "sending")  # committed before the call
            try:
                provider_id = await self._call(tenant, account, recipient, text, part,
                                               human_agent)
            except SendError as error:
                if error.kind == "throttled" and attempt < self.throttle_attempts:
                    await self._settle(tenant, [part], "pending", code=error.code,
                                       detail=error.detail)
                    await asyncio.sleep(self.throttle_backoff * 2 ** (attempt - 1))
                    continue
                await self._failed(tenant, account, part, error, recipient)
                return
            await self._settle(tenant, [part], "sent", provider_id=provider_id)
            SENDS.labels(account.channel, "sent").inc()
            return

    async def _call(self, tenant: TenantNames, account: ChannelAccount, recipient: str,
                    text: str, part: Part, human_agent: bool) -> str:
        if account.channel == "email":
            if self.mail is None:
                raise SendError("permanent", "no-mail", "this sender sends no mail")
            return await self.mail.send(tenant, account, part, recipient, text)
        if account.channel == "booking_com" and self.booking_com is not None:
            return await self.booking_com.reply(account, recipient, text)
        if account.channel == "sms":
            return await self.sms.send(account, recipient, text)
        token = account.credential("accessToken") or ""
        if account.channel == "whatsapp":
            return await self.graph.send_whatsapp(account.account_id, token, recipient, text)
        page = account.account_id if account.channel == "messenger" else "me"
        return await self.graph.send_messaging(page, token, recipient, text, human_agent)

    async def _failed(self, tenant: TenantNames, account: ChannelAccount, part: Part,
                      error: SendError, recipient: str) -> None:
        """Throttled or transient: put back, and the event is tried again later. Anything
        else is final and recorded: never retried blindly."""
        SENDS.labels(account.channel, error.kind).inc()
        if error.kind in ("throttled", "transient"):
            await self._settle(tenant, [part], "pending", code=error.code, detail=error.detail)
            raise error
        if error.kind == "bad-token":  # only people can fix it: the operator tells them
            await record_fault(self.pool, tenant.slug, account.channel, error.code, error.detail)
        if error.kind == "opted-out":  # the provider knows the customer unsubscribed
            async with TenantUnitOfWork(self.pool, tenant) as conn:
                await opt_out(conn, self.keyring.cipher(tenant, conn),
                              Contact(account.channel, recipient, ""))
        status = {"window-closed": "refused", "opted-out": "refused",
                  "uncertain": "uncertain"}.get(error.kind, "failed")
        log.warning("send failed", tenant=tenant.slug, channel=account.channel,
                    kind=error.kind, code=error.code)
        await self._settle(tenant, [part], status, code=error.code, detail=error.detail)

    async def _settle(self, tenant: TenantNames, parts: list[Part], status: str, *,
                      provider_id: str | None = None, code: str | None = None,
                      detail: str | None = None) -> None:
        async with TenantUnitOfWork(self.pool, tenant) as conn:
            for part in parts:
                await deliveries.mark(conn, part, status, provider_message_id=provider_id,
                                      error_code=code, error_detail=detail)
