"""The mail that carries a reply: in the customer's thread (In-Reply-To, the whole
References chain, `Re:` subject), from the tenant's address they wrote to, with a Message-ID
of that address's domain; the agent's is marked `Auto-Submitted: auto-replied` (RFC 3834) so
that other robots do not answer it, and signed off in the conversation's language."""

from __future__ import annotations

import email.utils
import re
import uuid
from email.headerregistry import Address
from email.message import EmailMessage

from simptu.runtime.channels.email.threads import Headers

REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|răs|ras|fw|fwd)\s*:", re.IGNORECASE)
SIGN_OFF = {"ro": "{name}\n(răspuns scris de asistentul virtual; un coleg preia oricând "
                  "conversația)",
            "en": "{name}\n(written by our virtual assistant; a colleague can take over "
                  "at any time)"}
SUBJECT = {"ro": "Mesajul dumneavoastră", "en": "Your message"}


def reply_subject(subject: str, locale: str) -> str:
    if not subject:
        return f"Re: {SUBJECT.get(locale, SUBJECT['en'])}"
    return subject if REPLY_PREFIX.match(subject) else f"Re: {subject}"


def reply_message_id(message_id: uuid.UUID, part: int, tenant_address: str) -> str:
    """Our reply's Message-ID: from the chat message it carries, so every attempt of one part
    has one id; of the tenant's domain."""
    domain = tenant_address.rpartition("@")[2] or "simptu.invalid"
    return f"<{message_id}.{part}@{domain}>"


def compose_reply(*, answered: Headers, recipient: str, text: str, business_name: str,
                  locale: str, message_id: str, by_agent: bool = True) -> EmailMessage:
    """The mail of a reply; `by_agent` False: a person of the business wrote it (signed by
    the business alone, and not marked automatic)."""
    mail = EmailMessage()
    mail["From"] = Address(business_name, addr_spec=answered.tenant_address)
    mail["To"] = recipient
    mail["Subject"] = reply_subject(answered.subject, locale)
    mail["Date"] = email.utils.formatdate(localtime=False)
    mail["Message-ID"] = message_id
    mail["In-Reply-To"] = answered.message_id
    mail["References"] = " ".join(answered.chain())
    if by_agent:  # RFC 3834: what a person wrote is not automatic
        mail["Auto-Submitted"] = "auto-replied"
    mail["X-Auto-Response-Suppress"] = "All"  # Exchange: no out-of-office back
    sign_off = (SIGN_OFF.get(locale, SIGN_OFF["en"]).format(name=business_name) if by_agent
                else business_name)
    mail.set_content(f"{text.strip()}\n\n-- \n{sign_off}\n")
    mail["Content-Language"] = locale  # after set_content, which clears Content-* headers
    return mail
