"""E-mail against the running stack: customers write to a demo tenant's address on the stack's
own mail server (Postfix → Dovecot), the channel senders' process reads that mailbox by IMAP,
the stack's agent answers, and its reply is mailed back through Postfix to the customer's
mailbox, where the test finds it by its thread headers."""

from __future__ import annotations

import email.utils
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import urlsplit

import aiosmtplib
import asyncpg
import pytest

from simptu.devstack.demo_channels import demo_mailbox
from simptu.devstack.envfile import StackEnv
from simptu.runtime.channels.email import threads
from simptu.runtime.core.crypto import KeyRing
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.tenancy import TenantNames
from tests.mailboxes import read_mailbox, send_mail, wait_for_mail

HOTEL = "hotel-carpati-brasov"


def new_customer() -> str:
    return f"guest-{uuid.uuid4().hex[:12]}@customers.test"


def new_message_id(domain: str = "customers.test") -> str:
    return f"<{uuid.uuid4()}@{domain}>"


def question(customer: str, to: str, subject: str, body: str, **headers: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = customer
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = email.utils.formatdate()
    mail["Message-ID"] = new_message_id()
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(body)
    return mail


@dataclass
class Mail:
    stack: StackEnv
    db: asyncpg.Pool
    key_ring: KeyRing
    slug: str = HOTEL

    @property
    def address(self) -> str:
        return demo_mailbox(self.slug).addresses[0]

    async def send(self, mail: EmailMessage) -> str:
        await send_mail(self.stack, mail)
        return str(mail["Message-ID"])

    async def send_bounce(self, mail: EmailMessage, to: str) -> str:
        """Send as a mail server sends a bounce: from the empty return path (MAIL FROM:<>)."""
        relay = urlsplit(self.stack["SIMPTU_MAIL_SMTP_URL"])
        async with aiosmtplib.SMTP(hostname=relay.hostname, port=relay.port,
                                   start_tls=False) as smtp:
            await smtp.sendmail("", [to], bytes(mail))
        return str(mail["Message-ID"])

    async def reply_to(self, customer: str, message_id: str) -> EmailMessage:
        """The tenant's reply in the thread of `message_id` (told apart by its headers)."""
        return await wait_for_mail(self.stack, customer,
                                   lambda mail: mail["In-Reply-To"] == message_id, 90)

    def mailbox(self, address: str) -> list[EmailMessage]:
        return read_mailbox(self.stack, address)

    async def row(self, message_id: str) -> asyncpg.Record:
        """The tenant's record of a mail, found by its Message-ID as ingest finds it."""
        tenant = TenantNames(self.slug)
        async with TenantUnitOfWork(self.db, tenant) as conn:
            index = await threads.id_index(self.key_ring.cipher(tenant, conn), message_id)
            row: asyncpg.Record | None = await conn.fetchrow(
                "SELECT * FROM email_messages WHERE message_index = $1", index)
        assert row is not None, f"the tenant has no record of {message_id}"
        return row

    async def delivery_status(self, message_id: str) -> str | None:
        """What the channel senders recorded of the reply they sent as `message_id`."""
        async with TenantUnitOfWork(self.db, TenantNames(self.slug)) as conn:
            status: str | None = await conn.fetchval(
                "SELECT status FROM channel_deliveries WHERE channel = 'email' "
                "AND provider_message_id = $1", message_id)
            return status

    async def messages(self, session_id: uuid.UUID) -> list[asyncpg.Record]:
        async with TenantUnitOfWork(self.db, TenantNames(self.slug)) as conn:
            return list(await conn.fetch("SELECT id, author FROM chat_messages "
                                         "WHERE session_id = $1 ORDER BY seq", session_id))


@pytest.fixture
def mail(stack: StackEnv, db: asyncpg.Pool, key_ring: KeyRing) -> Mail:
    return Mail(stack, db, key_ring)
