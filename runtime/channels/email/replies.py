"""The email branch of the channel senders: a reply part becomes a mail in the customer's
thread, its Message-ID recorded (so the customer's answer to it threads) before it is handed
to the relay: the platform's, or the tenant's own server when its Secret names one."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from simptu.runtime.channels.email import threads
from simptu.runtime.channels.email.reply import compose_reply, reply_message_id
from simptu.runtime.channels.email.smtp import Login, MailRelay
from simptu.runtime.channels.send_errors import SendError
from simptu.runtime.core.channels.accounts import ChannelAccount
from simptu.runtime.core.channels.deliveries import Part
from simptu.runtime.core.crypto import KeyRing
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.registry import TenantRegistry
from simptu.runtime.core.tenancy import TenantNames


@dataclass
class EmailReplies:
    pool: asyncpg.Pool
    keyring: KeyRing
    registry: TenantRegistry
    relay: MailRelay | None  # the platform's (None: SIMPTU_MAIL_SMTP_URL is empty)

    def _relay_of(self, account: ChannelAccount, address: str) -> tuple[MailRelay, Login | None]:
        own = account.credential("smtpUrl")
        if own:
            password = account.credential("password") or ""
            return MailRelay(own), Login(account.credential("username") or address, password)
        if self.relay is None:
            raise SendError("permanent", "no-relay", "no mail relay: SIMPTU_MAIL_SMTP_URL is "
                            "empty and the tenant's mail Secret names no smtpUrl")
        return self.relay, None

    async def send(self, tenant: TenantNames, account: ChannelAccount, part: Part,
                   recipient: str, text: str) -> str:
        """Mail `text` to `recipient` in the conversation's thread; returns its Message-ID."""
        record = await self.registry.get(tenant.slug)
        async with TenantUnitOfWork(self.pool, tenant) as conn:
            cipher = self.keyring.cipher(tenant, conn)
            session = await conn.fetchrow(
                "SELECT s.id, s.locale, m.author FROM channel_deliveries d JOIN chat_sessions s "
                "ON s.id = d.session_id LEFT JOIN chat_messages m ON m.id = d.message_id "
                "WHERE d.message_id = $1 AND d.part = $2", part.message_id, part.index)
            answered = session and await threads.latest_inbound(conn, cipher, session["id"])
            if not answered:
                raise SendError("permanent", "no-thread", "the conversation has no mail to "
                                "answer")
            message_id = reply_message_id(part.message_id, part.index, answered.tenant_address)
            mail = compose_reply(answered=answered, recipient=recipient, text=text,
                                 business_name=record.display_name or record.slug,
                                 locale=session["locale"], message_id=message_id,
                                 by_agent=session["author"] != "staff")
            await threads.record(conn, cipher, threads.Headers(
                message_id, str(mail["Subject"]), answered.chain(), answered.tenant_address),
                session_id=session["id"], direction="out", outcome="sent")
        relay, login = self._relay_of(account, answered.tenant_address)
        await relay.send(mail, login)
        return message_id
