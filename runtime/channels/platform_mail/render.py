"""Rendering a platform mail: each kind has, per locale (ro, en), a plain-text template whose
`subject` and `body` blocks give the subject and the text part, and an HTML template (escaped
automatically) for the HTML part; the message carries both as multipart/alternative."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from simptu.runtime.core.mail import LOCALES, MailKind

TEMPLATES = Path(__file__).resolve().parent / "templates"
ENGLISH_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
                  "September", "October", "November", "December")
ROMANIAN_MONTHS = ("ianuarie", "februarie", "martie", "aprilie", "mai", "iunie", "iulie",
                   "august", "septembrie", "octombrie", "noiembrie", "decembrie")


def locale_of(wanted: str | None, fallback: str = "en") -> str:
    """The mail's language: the wanted one when there are templates for it, else the fallback's,
    else English."""
    for candidate in (wanted, fallback):
        short = (candidate or "")[:2].lower()
        if short in LOCALES:
            return short
    return "en"


def when_text(at: dt.datetime, timezone: str, locale: str) -> str:
    """A moment as the customer reads it, in the business's time zone."""
    local = at.astimezone(ZoneInfo(timezone))
    if locale == "ro":
        return f"{local.day} {ROMANIAN_MONTHS[local.month - 1]} {local.year}, ora {local:%H:%M}"
    return f"{local.day} {ENGLISH_MONTHS[local.month - 1]} {local.year} at {local:%H:%M}"


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


class MailTemplates:
    """The templates, loaded once; `render` is pure."""

    def __init__(self, folder: Path = TEMPLATES) -> None:
        self.env = Environment(loader=FileSystemLoader(folder), undefined=StrictUndefined,
                               autoescape=select_autoescape(["html"]), trim_blocks=True,
                               keep_trailing_newline=True)

    def render(self, kind: MailKind, locale: str, values: dict[str, str]) -> RenderedMail:
        """The mail of `kind` in `locale` (ro or en); a value a template names but `values`
        lacks is an error, never an empty gap."""
        if locale not in LOCALES:
            raise ValueError(f"no templates for locale {locale!r}")
        plain = self.env.get_template(f"{locale}/{kind}.txt")
        context = plain.new_context({**values, "locale": locale})
        subject = " ".join("".join(plain.blocks["subject"](context)).split())
        text = "".join(plain.blocks["body"](context)).strip("\n") + "\n"
        html = self.env.get_template(f"{locale}/{kind}.html").render(
            {**values, "locale": locale, "subject": subject})
        return RenderedMail(subject, text, html)


@dataclass(frozen=True)
class Envelope:
    """Who a mail is from and to, and the id it goes out with."""

    sender: Address
    to: str
    message_id: str
    locale: str


def message_of(mail: RenderedMail, envelope: Envelope, at: dt.datetime) -> EmailMessage:
    """The MIME message: text and HTML alternatives, marked as sent by a machine (RFC 3834:
    auto-responders must not answer it)."""
    message = EmailMessage()
    message["From"] = envelope.sender
    message["To"] = envelope.to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(at)
    message["Message-ID"] = envelope.message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    message["Content-Language"] = envelope.locale  # after the content, which resets Content-*
    return message
