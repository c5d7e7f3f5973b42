"""An inbound mail as the platform keeps it: parsed with the standard library's `email`
(policy default), the customer's new text without quoted replies and signatures
(`mail-parser-reply`, plus the Romanian clients' markers it does not know), its attachments
by name and size, and the headers threading and loop checks need."""

from __future__ import annotations

import email
import email.policy
import email.utils
import functools
import hashlib
import html
import re
from dataclasses import dataclass, field
from email.message import EmailMessage

from mailparser_reply import EmailReplyParser

from simptu.runtime.core.language import Locale, detect_language

# Languages whose reply headers ("On … wrote:") and signatures are cut; `ro` is ours below.
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl"]
# Romanian clients' quote headers: Gmail "Pe lun., 7 dec. 2026 la 10:00, X a scris:",
# Outlook "-----Mesaj original-----" / "De la: …" blocks, Thunderbird "La 07.12.2026 X a scris:".
ROMANIAN_QUOTE = re.compile(
    r"^\s*(?:(?:Pe|La|În|In)\b.{0,200}?\ba scris\s*:|-{3,}\s*Mesaj(?:ul)? original\s*-{3,}"
    r"|De la\s*:.*\n\s*(?:Trimis|Data)\s*:)", re.IGNORECASE | re.MULTILINE | re.DOTALL)
# The signature separator (RFC 3676 "-- ", and "--" as clients trim it).
SIGNATURE = re.compile(r"^--[ \t]*$", re.MULTILINE)
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
TEXT_LIMIT = 4000  # what a conversation keeps of one mail's new text


@dataclass(frozen=True)
class Attachment:
    name: str
    size: int  # bytes, decoded


@dataclass(frozen=True)
class InboundMail:
    """What ingest, threading and the agent need of one mail (raw bytes are never kept)."""

    message_id: str  # "<…>"; made up from the content when the mail has none
    sender: str  # the From address, lower-cased
    sender_name: str
    subject: str
    text: str  # the new text, quotes and signature stripped
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    language: Locale = "ro"
    message: EmailMessage = field(repr=False, compare=False, default_factory=EmailMessage)

    @property
    def recipients(self) -> tuple[str, ...]:
        """The To and Cc addresses, lower-cased (parsed when asked: address headers are the
        slow part of parsing)."""
        return tuple(address for _, address in addresses(self.message, "To", "Cc"))

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """The ids a reply names, In-Reply-To first, then References from the newest."""
        named = ([self.in_reply_to] if self.in_reply_to else []) + list(reversed(self.references))
        return tuple(dict.fromkeys(named))

    def described(self) -> str:
        """The text posted to the conversation: the new text and what came attached."""
        lines = [self.text] if self.text else []
        lines += [f"[attachment: {a.name}, {a.size} bytes]" for a in self.attachments]
        return "\n".join(lines) or f"({self.subject or 'empty mail'})"


def message_from_bytes(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage), "policy.default makes EmailMessage"
    return parsed


def ids_in(value: str | None) -> tuple[str, ...]:
    """The Message-IDs in a header value (References holds many, folded)."""
    return tuple(MESSAGE_ID.findall(value or ""))


def header_text(message: EmailMessage, name: str) -> str:
    """A header's value as text; a header a client mangled reads as empty, never raises."""
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):
        return ""
    return str(value or "").strip()


def addresses(message: EmailMessage, *names: str) -> list[tuple[str, str]]:
    values = [header_text(message, name) for name in names]
    return [(display, address.lower()) for display, address in
            email.utils.getaddresses([value for value in values if value]) if "@" in address]


@functools.cache
def reply_parser(language: str) -> EmailReplyParser:
    """A parser trying `language`'s markers first (made once: it builds its patterns)."""
    return EmailReplyParser(languages=[language, *[lang for lang in REPLY_LANGUAGES
                                                   if lang != language]])


def strip_quotes(text: str, language: str) -> str:
    """The new text of a reply: everything from the first quote header on is cut, then
    signatures and `>` quotes (`mail-parser-reply`)."""
    for marker in (ROMANIAN_QUOTE, SIGNATURE):
        found = marker.search(text)
        if found:
            text = text[:found.start()]
    stripped = reply_parser(language).parse_reply(text)
    return (stripped if stripped is not None else text).strip()


def body_text(message: EmailMessage) -> str:
    """The plain-text body, or the HTML one reduced to text."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    assert isinstance(part, EmailMessage)
    try:
        content = str(part.get_content())
    except (LookupError, UnicodeDecodeError):  # an unknown or lying charset
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if part.get_content_type() == "text/html":
        content = html_to_text(content)
    return content.replace("\r\n", "\n")


def html_to_text(markup: str) -> str:
    text = re.sub(r"(?is)<(script|style|head).*?</\1>", "", markup)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</tr>", "\n", text)
    text = re.sub(r"(?i)<blockquote.*", "", text, flags=re.DOTALL)  # the quoted mail
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def attachments_of(message: EmailMessage) -> tuple[Attachment, ...]:
    found = []
    for part in message.iter_attachments():
        assert isinstance(part, EmailMessage)
        payload = part.get_payload(decode=True)
        name = part.get_filename() or part.get_content_type()
        found.append(Attachment(name, len(payload) if isinstance(payload, bytes) else 0))
    return tuple(found)


def made_up_id(message: EmailMessage) -> str:
    """A mail without Message-ID (rare, and against RFC 5322) gets one from its content, so a
    redelivery is still recognised."""
    digest = hashlib.sha256(bytes(message)).hexdigest()[:32]
    return f"<{digest}@no-message-id.invalid>"


def parse_mail(raw: bytes, fallback: Locale = "ro") -> InboundMail:
    message = message_from_bytes(raw)
    senders = addresses(message, "Reply-To") or addresses(message, "From")
    sender_name, sender = senders[0] if senders else ("", "")
    subject = " ".join(header_text(message, "Subject").split())
    body = body_text(message)
    text = strip_quotes(body, detect_language(body[:500], fallback))[:TEXT_LIMIT]
    language = detect_language(text or subject, fallback)  # the customer's own words
    own_ids = ids_in(header_text(message, "Message-ID"))
    reply_to_ids = ids_in(header_text(message, "In-Reply-To"))
    return InboundMail(
        message_id=own_ids[0] if own_ids else made_up_id(message),
        sender=sender, sender_name=sender_name,
        subject=subject, text=text,
        in_reply_to=reply_to_ids[0] if reply_to_ids else None,
        references=ids_in(header_text(message, "References")),
        attachments=attachments_of(message), language=language, message=message)
