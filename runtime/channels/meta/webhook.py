"""Meta's webhook, provider side of the API's routes: the verification handshake, and each
delivery checked against the app secret of every tenant it speaks for before anything is
stored. A tenant connected through the platform's own Meta app shares its app secret; a tenant
with its own app has its secret in its channel account. A delivery naming a business account
no tenant owns is counted and logged (never silently dropped), and refused unless the
platform's app signed it."""

from __future__ import annotations

import json
from dataclasses import dataclass

import structlog

from simptu.runtime.channels.meta.payloads import Delivery, Inbound, MalformedDelivery, parse
from simptu.runtime.channels.meta.signature import verifies
from simptu.runtime.channels.metrics import UNROUTED, WEBHOOKS
from simptu.runtime.channels.refusals import WebhookRefused
from simptu.runtime.core.channels import deliveries
from simptu.runtime.core.channels.accounts import ChannelAccounts
from simptu.runtime.core.channels.contacts import Contact, receive_message
from simptu.runtime.core.channels.routing import META_VERIFY, RegistryIndex
from simptu.runtime.core.chat.actions import Conversations
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.registry import TenantRecord, TenantRegistry, UnknownTenant

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Accepted:
    messages: int
    duplicates: int
    statuses: int
    unrouted: int


@dataclass(frozen=True)
class MetaWebhook:
    registry: TenantRegistry
    index: RegistryIndex
    accounts: ChannelAccounts
    conversations: Conversations
    # The platform's own Meta app (empty when there is none).
    app_secret: str
    verify_token: str

    async def verify_subscription(self, mode: str | None, token: str | None,
                                  challenge: str | None) -> str:
        """The challenge, when Meta asks to subscribe with a verify token we gave out."""
        if mode != "subscribe" or not token or challenge is None:
            raise WebhookRefused(400, "bad-verification", "expected hub.mode=subscribe, "
                                 "hub.verify_token and hub.challenge")
        if self.verify_token and token == self.verify_token:
            return challenge
        try:
            await self.registry.by_channel(META_VERIFY, await self.index.of(META_VERIFY, token))
        except UnknownTenant:
            raise WebhookRefused(403, "wrong-verify-token",
                                 "the verify token is not one this platform gave out") from None
        return challenge

    async def receive(self, raw: bytes, signature: str | None) -> Accepted:
        """Check, then store every message and status of one delivery."""
        if not signature:
            WEBHOOKS.labels("meta", "unsigned").inc()
            raise WebhookRefused(401, "unsigned", "X-Hub-Signature-256 is missing")
        try:
            delivery = parse(json.loads(raw))
        except (ValueError, MalformedDelivery) as error:
            WEBHOOKS.labels("meta", "malformed").inc()
            raise WebhookRefused(400, "malformed", str(error)) from error
        tenants = await self._owners(delivery)
        await self._check_signature(raw, signature, tenants)
        accepted = await self._store(delivery, tenants)
        WEBHOOKS.labels("meta", "accepted").inc()
        return accepted

    async def _owners(self, delivery: Delivery) -> dict[tuple[str, str], TenantRecord]:
        owners: dict[tuple[str, str], TenantRecord] = {}
        for channel, account in delivery.accounts:
            try:
                tenant = await self.registry.by_channel(channel,
                                                        await self.index.of(channel, account))
            except UnknownTenant:
                continue
            if tenant.status == "Ready":
                owners[channel, account] = tenant
        return owners

    async def _check_signature(self, raw: bytes, signature: str,
                               owners: dict[tuple[str, str], TenantRecord]) -> None:
        """Every tenant of the delivery must have signed it: its own app's secret, or the
        platform's. With no tenant, only the platform's app may speak of unknown accounts."""
        if not owners:
            if verifies(self.app_secret, raw, signature):
                return
            self._refuse_signature()
        for (channel, _), tenant in owners.items():
            if not await self._signed_for(tenant, channel, raw, signature):
                self._refuse_signature()

    async def _signed_for(self, tenant: TenantRecord, channel: str, raw: bytes,
                          signature: str) -> bool:
        for fresh in (False, True):  # a rotated secret: read it again before refusing
            account = await self.accounts.get(tenant.names, channel, fresh=fresh)
            if account is None:
                return False
            secret = account.credential("appSecret") or self.app_secret
            if verifies(secret, raw, signature):
                return True
        return False

    def _refuse_signature(self) -> None:
        WEBHOOKS.labels("meta", "bad-signature").inc()
        raise WebhookRefused(403, "bad-signature",
                             "X-Hub-Signature-256 does not match the body under the app secret "
                             "of the accounts it names")

    async def _store(self, delivery: Delivery,
                     owners: dict[tuple[str, str], TenantRecord]) -> Accepted:
        stored = duplicates = statuses = unrouted = 0
        for message in delivery.messages:
            tenant = owners.get((message.channel, message.account_id))
            if tenant is None:
                unrouted += self._unrouted(message.channel, message.account_id)
            elif await self._post(tenant, message):
                stored += 1
            else:
                duplicates += 1
        for status in delivery.statuses:
            tenant = owners.get((status.channel, status.account_id))
            if tenant is None:
                unrouted += self._unrouted(status.channel, status.account_id)
                continue
            async with TenantUnitOfWork(self.conversations.pool, tenant.names) as conn:
                statuses += await deliveries.provider_status(
                    conn, status.channel, status.provider_message_id, status.status,
                    status.error_code, status.error_detail)
        return Accepted(stored, duplicates, statuses, unrouted)

    async def _post(self, tenant: TenantRecord, message: Inbound) -> bool:
        text = message.text[:self.conversations.max_text_chars]
        posted = await receive_message(
            self.conversations, tenant, Contact(message.channel, message.sender, tenant.locale),
            message.message_id, text, message.at)
        return posted is not None

    @staticmethod
    def _unrouted(channel: str, account: str) -> int:
        UNROUTED.labels(channel).inc()
        log.warning("webhook for an account no Ready tenant owns", channel=channel,
                    account_suffix=account[-4:])
        return 1
