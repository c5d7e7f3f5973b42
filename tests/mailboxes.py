"""Mail as the tests see it on the stack's own mail server: send one by SMTP as a customer
would, and wait for what arrived in any address's mailbox (IMAP, the stack's mail password)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import imaplib
import time
from collections.abc import Callable
from email.message import EmailMessage
from urllib.parse import urlsplit

from simptu.devstack.envfile import StackEnv
from simptu.runtime.channels.email.smtp import MailRelay

Wanted = Callable[[EmailMessage], bool]


async def send_mail(stack: StackEnv, message: EmailMessage) -> None:
    await MailRelay(stack["SIMPTU_MAIL_SMTP_URL"]).send(message)


def read_mailbox(stack: StackEnv, address: str) -> list[EmailMessage]:
    """Every mail in the address's inbox, oldest first (an address never written to: none)."""
    server = urlsplit(stack["SIMPTU_MAIL_IMAP_URL"])
    assert server.hostname is not None
    assert server.port is not None
    with imaplib.IMAP4(server.hostname, server.port, timeout=10) as imap:
        imap.login(address, stack["SIMPTU_MAIL_PASSWORD"])
        imap.select("INBOX", readonly=True)
        _, found = imap.search(None, "ALL")
        mails = []
        for number in found[0].split():
            _, parts = imap.fetch(number, "(BODY.PEEK[])")
            raw = parts[0][1] if isinstance(parts[0], tuple) else b""
            mails.append(email.message_from_bytes(raw, policy=email.policy.default))
        return [mail for mail in mails if isinstance(mail, EmailMessage)]


async def wait_for_mail(stack: StackEnv, address: str, wanted: Wanted,
                        within: float = 60.0) -> EmailMessage:
    """The first mail in `address`'s inbox for which `wanted` is true, once it has arrived."""
    deadline = time.monotonic() + within
    while True:
        for mail in await asyncio.to_thread(read_mailbox, stack, address):
            if wanted(mail):
                return mail
        if time.monotonic() > deadline:
            raise AssertionError(f"no such mail reached {address} within {within:.0f}s")
        await asyncio.sleep(0.2)
