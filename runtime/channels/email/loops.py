"""Mail that must never be answered (RFC 3834 and what mail systems really send): automatic
replies, lists and bulk mail, bounces. Answering them is how two robots mail each other
forever; a bounce of one of our replies instead tells which reply was not delivered."""

from __future__ import annotations

from email.message import EmailMessage

from simptu.runtime.channels.email.parse import header_text, ids_in

BULK = {"bulk", "list", "junk"}
# Headers that mark an automatic reply whatever their value (Exchange, Microsoft, others).
AUTOREPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress-Never")
BOUNCE_SENDERS = ("mailer-daemon@", "postmaster@")


def is_bounce(message: EmailMessage) -> bool:
    """A delivery status notification (RFC 3464) or a bounce in an older format."""
    if message.get_content_type() == "multipart/report" and (
            str(message.get_param("report-type") or "")).lower() == "delivery-status":
        return True
    sender = header_text(message, "From").lower()
    return bool(header_text(message, "X-Failed-Recipients")) or any(
        marker in sender for marker in BOUNCE_SENDERS)


def loop_reason(message: EmailMessage) -> str | None:
    """Why the mail gets no answer (None: it may be answered)."""
    if is_bounce(message):
        return "bounce"
    auto = header_text(message, "Auto-Submitted").lower()
    if auto and auto.split(";")[0].strip() != "no":
        return "auto-submitted"
    if any(header_text(message, name) for name in AUTOREPLY_HEADERS):
        return "auto-reply"
    if header_text(message, "X-Auto-Response-Suppress").lower() in ("all", "oof"):
        return "auto-reply"
    if header_text(message, "Precedence").lower() in BULK:
        return "bulk"
    if header_text(message, "List-Id") or header_text(message, "List-Unsubscribe"):
        return "list"
    if "Return-Path" in message and header_text(message, "Return-Path") in ("<>", ""):
        return "empty-return-path"
    return None


def bounced_ids(message: EmailMessage) -> tuple[str, ...]:
    """The Message-IDs a bounce reports as undelivered: from the returned message or its
    headers (message/rfc822, text/rfc822-headers), else what the bounce replies to."""
    found: list[str] = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            for returned in inner if isinstance(inner, list) else [inner]:
                if isinstance(returned, EmailMessage):
                    found += ids_in(header_text(returned, "Message-ID"))
        elif kind == "text/rfc822-headers":
            text = part.get_content() if isinstance(part, EmailMessage) else ""
            for line in str(text).splitlines():
                if line.lower().startswith("message-id:"):
                    found += ids_in(line)
    found += ids_in(header_text(message, "In-Reply-To"))
    return tuple(dict.fromkeys(found))
