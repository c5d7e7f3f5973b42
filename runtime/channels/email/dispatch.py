"""Where every ingested mail goes, once: `MailDispatch.dispatch`. A mail seen before is
dropped; one that must not be answered (auto-replies, lists, bounces) is recorded and, for a
bounce, marks the reply it returns as failed; a recogniser (reservation mails) may take it;
anything else is a customer's message in its thread's conversation, or in a new one."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import asyncpg
import structlog

from simptu.runtime.channels.email import threads
from simptu.runtime.channels.email.loops import bounced_ids, loop_reason
from simptu.runtime.channels.email.parse import InboundMail
from simptu.runtime.channels.email.threads import Headers
from simptu.runtime.core.channels import deliveries
from simptu.runtime.core.channels.contacts import (
    Contact,
    client_id_of,
    receive_message,
    seen_before,
)
from simptu.runtime.core.chat.actions import Conversations
from simptu.runtime.core.crypto import TenantCipher
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.registry import TenantRecord

log = structlog.get_logger(__name__)

# A recogniser takes the mails it understands (True: handled, nothing else happens to it).
Recogniser = Callable[[TenantRecord, str, InboundMail], Awaitable[bool]]


@dataclass
class MailDispatch:
    conversations: Conversations
    # Tried in order before a mail becomes a conversation message (Booking.com's and other
    # platforms' reservation mails).
    recognisers: Sequence[Recogniser] = field(default_factory=list)

    async def dispatch(self, tenant: TenantRecord, mailbox: str, mail: InboundMail,
                       own_addresses: Sequence[str] = ()) -> str:
        """Handle one mail that reached the tenant's `mailbox` address; returns what became of
        it (posted, duplicate, own, handled, or the reason it gets no answer)."""
        headers = Headers(mail.message_id, mail.subject, list(mail.references), mailbox,
                          [[a.name, a.size] for a in mail.attachments])
        pool, keyring = self.conversations.pool, self.conversations.keyring
        contact = Contact("email", mail.sender, mail.language)
        async with TenantUnitOfWork(pool, tenant.names) as conn:
            cipher = keyring.cipher(tenant.names, conn)
            before = await threads.stored(conn, cipher, mail.message_id)
            if before is not None:
                # Stored with its conversation, then maybe not posted (a crash between the
                # two): posted now if it was not.
                if before.thread_key is None or await seen_before(
                        conn, contact, before.thread_key, client_id_of(contact,
                                                                       mail.message_id)):
                    return "duplicate"
                return await self._post(tenant, mail, headers, before.thread_key)
            reason = loop_reason(mail.message)
            if reason is None and (not mail.sender or mail.sender in own_addresses):
                reason = "own"
            if reason is not None:
                if reason == "bounce":
                    await self._bounced(conn, mail)
                await threads.record(conn, cipher, headers, session_id=None, direction="in",
                                     outcome=reason)
                log.info("mail not answered", tenant=tenant.slug, reason=reason)
                return reason
            thread = await threads.thread_of(conn, cipher, mail.sender, mail.thread_ids)
            # A new thread, or one whose headers a client (Outlook) rewrote: a new conversation.
            key = thread.key if thread else await threads.thread_key(cipher, mail.sender,
                                                                     mail.message_id)
        for recognise in self.recognisers:
            if await recognise(tenant, mailbox, mail):
                async with TenantUnitOfWork(pool, tenant.names) as conn:
                    await threads.record(conn, keyring.cipher(tenant.names, conn), headers,
                                         session_id=None, direction="in", outcome="handled")
                return "handled"
        return await self._post(tenant, mail, headers, key)

    async def _post(self, tenant: TenantRecord, mail: InboundMail, headers: Headers,
                    key: bytes) -> str:
        """Post the mail in the thread's conversation; its row is stored with the
        conversation, before the message, so the agent's reply finds what it answers."""

        async def keep(conn: asyncpg.Connection, cipher: TenantCipher,
                       session_id: uuid.UUID) -> None:
            await threads.record(conn, cipher, headers, session_id=session_id, direction="in",
                                 outcome="posted")

        contact = Contact("email", mail.sender, mail.language)
        text = mail.described()[:self.conversations.max_text_chars]  # many attachments
        received = await receive_message(self.conversations, tenant, contact, mail.message_id,
                                         text, dt.datetime.now(dt.UTC), index=key, keep=keep)
        return "posted" if received else "duplicate"

    @staticmethod
    async def _bounced(conn: asyncpg.Connection, mail: InboundMail) -> None:
        """Each of our replies the bounce returns is marked failed (staff see it)."""
        for message_id in bounced_ids(mail.message):
            await deliveries.provider_status(conn, "email", message_id, "failed", "bounce",
                                             "the recipient's mail server returned it")
