"""The platform's mail templates: every kind renders in Romanian and English, as plain text and
HTML, with every value in place, HTML-escaped only in the HTML part; a value left out is an
error, never a gap; the message is multipart/alternative and marked as sent by a machine."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from email.headerregistry import Address
from typing import get_args

import pytest

from simptu.runtime.channels.platform_mail.render import (
    Envelope,
    MailTemplates,
    locale_of,
    message_of,
    when_text,
)
from simptu.runtime.core.mail import LOCALES, MailKind

pytestmark = pytest.mark.unit
TEMPLATES = MailTemplates()
VALUES = {"business": "Ana & Co <Clinic>", "role": "staff",
          "accept_url": "http://127.0.0.1:3003/invitations/t/accept?token=TOKEN-123",
          "expires": "12 December 2026 at 10:00", "code": "04817263", "hours": "24",
          "service": "Consultație", "when": "10 December 2026 at 14:30",
          "resource": "Dr. Ana Popescu", "reference": "AB12CD34", "name": "Maria",
          "rate_url": "https://clinic.example/?rate=1"}
# What each kind must say (the secret or the facts it exists for).
MUST_SAY = {"invitation": ["TOKEN-123"], "access-code": ["04817263", "24"],
            "booking-confirmed": ["Consultație", "Dr. Ana Popescu", "AB12CD34"],
            "booking-cancelled": ["Consultație", "AB12CD34"],
            "rating-request": ["https://clinic.example/?rate=1", "Consultație"]}
SUBJECT_WORDS = {("invitation", "ro"): "Invitație", ("invitation", "en"): "invited",
                 ("access-code", "ro"): "cod", ("access-code", "en"): "access code",
                 ("booking-confirmed", "ro"): "confirmată",
                 ("booking-confirmed", "en"): "confirmed",
                 ("booking-cancelled", "ro"): "anulată",
                 ("booking-cancelled", "en"): "cancelled",
                 ("rating-request", "ro"): "Cum a fost", ("rating-request", "en"): "How was"}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", get_args(MailKind))
def test_every_kind_renders_in_both_languages_with_its_facts(kind: MailKind,
                                                             locale: str) -> None:
    mail = TEMPLATES.render(kind, locale, VALUES)
    assert SUBJECT_WORDS[kind, locale].lower() in mail.subject.lower()
    assert "\n" not in mail.subject
    for part in (mail.text, mail.html):
        assert "{{" not in part
        assert "{%" not in part
        for fact in MUST_SAY[kind]:
            assert fact in part
    assert "Ana & Co <Clinic>" in mail.text  # plain text is never escaped
    assert "Ana &amp; Co &lt;Clinic&gt;" in mail.html
    assert "<Clinic>" not in mail.html
    assert f'lang="{locale}"' in mail.html


def test_the_two_languages_say_it_differently() -> None:
    ro = TEMPLATES.render("booking-confirmed", "ro", VALUES)
    en = TEMPLATES.render("booking-confirmed", "en", VALUES)
    assert "Bună ziua, Maria" in ro.text
    assert "Hello Maria" in en.text
    assert ro.subject != en.subject


def test_a_rating_request_without_a_link_still_reads_well() -> None:
    mail = TEMPLATES.render("rating-request", "en", {**VALUES, "rate_url": ""})
    assert "Rate it from 1 to 5." in mail.text
    assert "href" not in mail.html.split("</p>", 2)[2]


def test_a_value_left_out_is_an_error_not_a_gap() -> None:
    values = {key: value for key, value in VALUES.items() if key != "code"}
    with pytest.raises(Exception, match="code"):
        TEMPLATES.render("access-code", "en", values)


def test_no_templates_no_mail() -> None:
    with pytest.raises(ValueError, match="locale"):
        TEMPLATES.render("access-code", "de", VALUES)


@pytest.mark.parametrize(("wanted", "fallback", "chosen"), [
    ("ro", "en", "ro"), ("ro-RO", "en", "ro"), ("de", "ro", "ro"), (None, "en-GB", "en"),
    ("fr", "de", "en"), ("EN", "ro", "en")])
def test_a_mail_is_in_the_wanted_language_when_there_are_templates_for_it(
        wanted: str | None, fallback: str, chosen: str) -> None:
    assert locale_of(wanted, fallback) == chosen


def test_times_are_told_in_the_business_time_zone_and_language() -> None:
    at = dt.datetime(2026, 12, 10, 12, 30, tzinfo=dt.UTC)  # 14:30 in Bucharest
    assert when_text(at, "Europe/Bucharest", "ro") == "10 decembrie 2026, ora 14:30"
    assert when_text(at, "Europe/Bucharest", "en") == "10 December 2026 at 14:30"


def test_the_message_has_both_parts_and_says_a_machine_sent_it() -> None:
    mail = TEMPLATES.render("booking-cancelled", "ro", VALUES)
    envelope = Envelope(Address("Clinica Zâmbet", addr_spec="no-reply@simptu.localhost"),
                        "ana@customers.test", "<abc@simptu.localhost>", "ro")
    raw = message_of(mail, envelope, dt.datetime(2026, 12, 6, tzinfo=dt.UTC)).as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["Message-ID"] == "<abc@simptu.localhost>"
    assert parsed["Content-Language"] == "ro"
    assert parsed["To"] == "ana@customers.test"
    assert parsed["From"].addresses[0].display_name == "Clinica Zâmbet"
    assert parsed["Subject"] == mail.subject  # non-ASCII survives the header encoding
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "anulată" in text.get_content()
    assert "anulată" in html.get_content()
