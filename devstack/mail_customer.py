"""Write to a demo tenant by e-mail as a customer would: the mail goes by SMTP to the stack's
Postfix, which delivers it to the tenant's mailbox on Dovecot; the channel senders read it,
the agent answers, and its reply lands in the customer's own mailbox, where `--wait` finds it
by its In-Reply-To header and prints it.

  python -m simptu.devstack.mail_customer --tenant hotel-carpati-brasov \\
      --from ana@customers.test --wait 60 "Bună ziua, aveți camere libere weekendul viitor?"
"""

from __future__ import annotations

import argparse
import asyncio
import email.policy
import email.utils
import sys
import time
import uuid
from email.message import EmailMessage
from urllib.parse import urlsplit

import aioimaplib

from simptu.devstack.demo_channels import demo_mailbox
from simptu.devstack.envfile import StackEnv
from simptu.devstack.settings import DevstackSettings
from simptu.runtime.channels.email.smtp import MailRelay


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The options; `--help` shows the module's own description and example."""
    parser = argparse.ArgumentParser(prog="python -m simptu.devstack.mail_customer",
                                      description=__doc__,
                                      formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("text", help="the customer's message")
    parser.add_argument("--tenant", required=True, help="a demo tenant's slug with e-mail")
    parser.add_argument("--from", dest="sender", default="ana@customers.test",
                        help="the customer's address (default ana@customers.test)")
    parser.add_argument("--subject", default="Întrebare", help="the mail's subject")
    parser.add_argument("--in-reply-to", help="a Message-ID the mail answers (a reply the "
                        "customer got): it continues that conversation")
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                        help="wait this long for the reply and print it (0: do not wait)")
    return parser.parse_args(argv)


def compose(args: argparse.Namespace, to: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = args.sender, to, args.subject
    mail["Date"] = email.utils.formatdate()
    mail["Message-ID"] = f"<{uuid.uuid4()}@{args.sender.partition('@')[2] or 'customers.test'}>"
    if args.in_reply_to:
        mail["In-Reply-To"] = mail["References"] = args.in_reply_to
    mail.set_content(args.text)
    return mail


async def open_inbox(stack: StackEnv, address: str) -> aioimaplib.IMAP4:
    """`address`'s inbox on the stack's mail server, logged in with the stack's password."""
    server = urlsplit(stack["SIMPTU_MAIL_IMAP_URL"])
    # 30 s a command: the bench appends a thousand mails through it.
    imap = aioimaplib.IMAP4(host=server.hostname, port=server.port, timeout=30)
    await imap.wait_hello_from_server()
    await imap.login(address, stack["SIMPTU_MAIL_PASSWORD"])
    await imap.select("INBOX")
    return imap


async def reply_to(stack: StackEnv, customer: str, message_id: str,
                   seconds: float) -> EmailMessage | None:
    """The mail in `customer`'s inbox that answers `message_id`, once it has arrived."""
    imap = await open_inbox(stack, customer)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            found = await imap.uid_search(f'HEADER In-Reply-To "{message_id}"')
            uids = b" ".join(found.lines[:-1]).split()
            if uids:
                fetched = await imap.uid("fetch", uids[0].decode(), "(BODY.PEEK[])")
                raw = next(bytes(line) for line in fetched.lines if isinstance(line, bytearray))
                reply = email.message_from_bytes(raw, policy=email.policy.default)
                return reply if isinstance(reply, EmailMessage) else None
            await asyncio.sleep(0.3)
        return None
    finally:
        await imap.logout()


async def run(args: argparse.Namespace) -> int:
    stack = StackEnv.load(DevstackSettings().env_file)
    to = demo_mailbox(args.tenant).addresses[0]
    mail = compose(args, to)
    await MailRelay(stack["SIMPTU_MAIL_SMTP_URL"]).send(mail)
    print(f"sent {mail['Message-ID']} from {args.sender} to {to}")
    if not args.wait:
        return 0
    reply = await reply_to(stack, args.sender, str(mail["Message-ID"]), args.wait)
    if reply is None:
        print(f"no reply within {args.wait:.0f} s", file=sys.stderr)
        return 1
    for name in ("From", "Subject", "Message-ID", "In-Reply-To", "References",
                 "Auto-Submitted"):
        print(f"{name}: {reply[name]}")
    print(f"\n{reply.get_content()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(parse(argv)))


if __name__ == "__main__":
    sys.exit(main())
