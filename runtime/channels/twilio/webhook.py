"""Twilio's webhooks, provider side of the API's routes: each request's tenant found by its
Messaging Service, then by the number it was sent to (Chatwoot lost every Messaging Service
number by looking up only one of them), and checked with the official `RequestValidator`
against the public URL Twilio called and every POST parameter. A number no tenant owns is
counted and logged, never dropped silently."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import structlog
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from simptu.runtime.channels.metrics import UNROUTED, WEBHOOKS
from simptu.runtime.channels.refusals import WebhookRefused
from simptu.runtime.core.channels import deliveries
from simptu.runtime.core.channels.accounts import ChannelAccount, ChannelAccounts
from simptu.runtime.core.channels.contacts import (
    Contact,
    contact_index,
    customer_subject,
    open_session_of,
    receive_message,
)
from simptu.runtime.core.channels.opt_outs import opt_in, opt_out
from simptu.runtime.core.channels.routing import TWILIO_NUMBER, TWILIO_SERVICE, RegistryIndex
from simptu.runtime.core.chat.access import Principal
from simptu.runtime.core.chat.actions import Conversations
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.registry import TenantRecord, TenantRegistry, UnknownTenant

log = structlog.get_logger(__name__)

# The keywords carriers and Twilio treat as opting out and back in (and asking for help).
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
START_WORDS = {"START", "UNSTOP", "YES", "OPTIN"}
HELP_WORDS = {"HELP", "INFO", "AJUTOR"}
HELP_TEXT = {"ro": "{name}: scrieți-ne aici pentru programări și întrebări. "
                   "Răspundeți STOP ca să nu mai primiți mesaje.",
             "en": "{name}: text us here for bookings and questions. Reply STOP to opt out."}
# Twilio's message statuses as delivery records know them (queued and sending: nothing yet).
STATUSES = {"sent": "sent", "delivered": "delivered", "read": "read",
            "undelivered": "failed", "failed": "failed"}


@dataclass(frozen=True)
class Caller:
    """The tenant and account a webhook belongs to, once its signature was checked."""

    tenant: TenantRecord
    account: ChannelAccount


@dataclass(frozen=True)
class TwilioWebhooks:
    registry: TenantRegistry
    index: RegistryIndex
    accounts: ChannelAccounts
    conversations: Conversations
    public_base_url: str

    def public_url(self, path: str, query: str) -> str:
        """The URL Twilio called, as it signed it."""
        if not self.public_base_url:
            raise WebhookRefused(503, "no-public-url", "SIMPTU_PUBLIC_BASE_URL is not set: "
                                 "Twilio's signatures cannot be checked")
        return self.public_base_url.rstrip("/") + path + (f"?{query}" if query else "")

    @staticmethod
    def signature_given(signature: str | None) -> str:
        """Refused first, before anything is looked up: a request Twilio did not sign."""
        if not signature:
            WEBHOOKS.labels("twilio", "unsigned").inc()
            raise WebhookRefused(403, "unsigned", "X-Twilio-Signature is missing")
        return signature

    async def check(self, url: str, params: Mapping[str, str], signature: str | None,
                    our_number: str) -> Caller:
        """The tenant of the request, if Twilio signed it; refused otherwise."""
        signature = self.signature_given(signature)
        tenant = await self._owner(params.get("MessagingServiceSid"), our_number)
        for fresh in (False, True):  # a rotated token: read it again before refusing
            account = await self.accounts.get(tenant.names, "sms", fresh=fresh)
            token = account.credential("authToken") if account else None
            if account and token and RequestValidator(token).validate(url, dict(params),
                                                                        signature):
                return Caller(tenant, account)
        WEBHOOKS.labels("twilio", "bad-signature").inc()
        raise WebhookRefused(403, "bad-signature", "X-Twilio-Signature does not match the URL "
                             "and parameters under the auth token of the number's tenant")

    async def _owner(self, service: str | None, number: str) -> TenantRecord:
        for kind, value in ((TWILIO_SERVICE, service), (TWILIO_NUMBER, number)):
            if not value:
                continue
            try:
                tenant = await self.registry.by_channel(kind, await self.index.of(kind, value))
            except UnknownTenant:
                continue
            if tenant.status == "Ready":
                return tenant
        UNROUTED.labels("sms").inc()
        log.warning("Twilio webhook for a number no Ready tenant owns",
                    number_suffix=number[-4:], service=bool(service))
        raise WebhookRefused(404, "unknown-number", "no tenant has this number")

    async def sms(self, url: str, params: Mapping[str, str], signature: str | None) -> str:
        """An inbound SMS: stored once per MessageSid for the agent (its reply goes out through
        the REST API), or a STOP/START/HELP keyword honoured; answers TwiML."""
        caller = await self.check(url, params, signature, params.get("To", ""))
        tenant, answer = caller.tenant, MessagingResponse()
        contact = Contact("sms", params.get("From", ""), tenant.locale)
        body = params.get("Body", "").strip()
        keyword = body.upper().strip(" .!")
        if keyword in STOP_WORDS | START_WORDS:
            async with TenantUnitOfWork(self.conversations.pool, tenant.names) as conn:
                cipher = self.conversations.keyring.cipher(tenant.names, conn)
                await (opt_out if keyword in STOP_WORDS else opt_in)(conn, cipher, contact)
        elif keyword in HELP_WORDS:
            language = "ro" if tenant.locale.startswith("ro") else "en"
            answer.message(HELP_TEXT[language].format(name=tenant.display_name))
        else:
            text = body or f"[{params.get('NumMedia', '0')} media]"
            await receive_message(self.conversations, tenant, contact, params["MessageSid"],
                                  text[:self.conversations.max_text_chars], dt.datetime.now(dt.UTC))
        WEBHOOKS.labels("twilio", "accepted").inc()
        return str(answer)

    async def close_conversation(self, tenant: TenantRecord, contact: Contact) -> None:
        """The customer's open conversation on the channel ends (a call hung up)."""
        async with TenantUnitOfWork(self.conversations.pool, tenant.names) as conn:
            index = await contact_index(self.conversations.keyring.cipher(tenant.names, conn),
                                        contact)
            session = await open_session_of(conn, contact.channel, index)
        if session is not None:
            customer = Principal(tenant.slug, customer_subject(contact, index),
                                 frozenset({"customer"}))
            await self.conversations.close(tenant, customer, session["id"])

    async def message_status(self, url: str, params: Mapping[str, str],
                             signature: str | None) -> None:
        """A status callback of a message we sent (from our number)."""
        caller = await self.check(url, params, signature, params.get("From", ""))
        status = STATUSES.get(params.get("MessageStatus", ""))
        if status is None:
            return
        async with TenantUnitOfWork(self.conversations.pool, caller.tenant.names) as conn:
            await deliveries.provider_status(conn, "sms", params.get("MessageSid", ""), status,
                                             params.get("ErrorCode") or None,
                                             params.get("ErrorMessage") or None)
