"""Inbound mail as ingest sees it: the new text without quotes and signatures, attachments by
name and size, thread ids in the order they are tried, and the mails never answered."""

from __future__ import annotations

import uuid
from email.message import EmailMessage

import pytest

from simptu.runtime.channels.email.loops import bounced_ids, loop_reason
from simptu.runtime.channels.email.parse import parse_mail
from simptu.runtime.channels.email.reply import compose_reply, reply_subject
from simptu.runtime.channels.email.threads import Headers
from tests.bounces import returned_mail


def mail(body: str = "Bună ziua, aveți camere libere pe 12 decembrie?", **headers: str,
         ) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Ana Pop <Ana@Customers.test>"
    message["To"] = "rezervari@hotel-carpati.example"
    message["Subject"] = "Cameră"
    message["Message-ID"] = f"<{uuid.uuid4()}@customers.test>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def test_a_question_is_read_with_its_sender_and_language() -> None:
    parsed = parse_mail(bytes(mail()))
    assert (parsed.sender, parsed.sender_name) == ("ana@customers.test", "Ana Pop")
    assert parsed.text == "Bună ziua, aveți camere libere pe 12 decembrie?"
    assert parsed.language == "ro"
    assert parsed.recipients == ("rezervari@hotel-carpati.example",)


@pytest.mark.parametrize("quoted", [
    "\n\nPe lun., 7 dec. 2026 la 10:00, Hotel Carpați <rezervari@hotel-carpati.example> a "
    "scris:\n> Avem camere libere.\n",
    "\n\n-----Mesaj original-----\nDe la: Hotel\nTrimis: luni\nSubiect: Cameră\n\nAvem.\n",
    "\n\nOn Mon, Dec 7, 2026 at 10:00 AM Hotel <rezervari@hotel-carpati.example> wrote:\n"
    "> We have rooms.\n",
    "\n\n-----Original Message-----\nFrom: Hotel\nSent: Monday\nTo: Ana\nSubject: Room\n\nOk\n",
])
def test_quoted_replies_are_cut_in_romanian_and_english(quoted: str) -> None:
    parsed = parse_mail(bytes(mail("Da, rezervați-mi camera dublă vă rog." + quoted)))
    assert parsed.text == "Da, rezervați-mi camera dublă vă rog."


def test_a_signature_is_cut() -> None:
    parsed = parse_mail(bytes(mail("Please book the double room.\n\n--\nAna Pop\nACME Ltd\n")))
    assert parsed.text == "Please book the double room."
    assert parsed.language == "en"


def test_html_only_mail_is_read_as_text() -> None:
    message = mail()
    message.set_content("<html><body><p>Aveți parcare?</p><blockquote>vechi</blockquote>"
                        "</body></html>", subtype="html")
    assert parse_mail(bytes(message)).text == "Aveți parcare?"


def test_attachments_are_recorded_by_name_and_size() -> None:
    message = mail()
    message.add_attachment(b"%PDF" + b"x" * 996, maintype="application", subtype="pdf",
                           filename="buletin.pdf")
    parsed = parse_mail(bytes(message))
    assert [(a.name, a.size) for a in parsed.attachments] == [("buletin.pdf", 1000)]
    assert parsed.described().endswith("[attachment: buletin.pdf, 1000 bytes]")


def test_thread_ids_are_in_reply_to_first_then_references_newest_first() -> None:
    parsed = parse_mail(bytes(mail(In_Reply_To="<c@x>", References="<a@x> <b@x> <c@x>")))
    assert parsed.thread_ids == ("<c@x>", "<b@x>", "<a@x>")


def test_a_mail_without_message_id_gets_a_stable_one() -> None:
    message = mail()
    del message["Message-ID"]
    assert parse_mail(bytes(message)).message_id == parse_mail(bytes(message)).message_id


@pytest.mark.parametrize(("headers", "reason"), [
    ({"Auto_Submitted": "auto-replied"}, "auto-submitted"),
    ({"Auto_Submitted": "auto-generated"}, "auto-submitted"),
    ({"X_Autoreply": "yes"}, "auto-reply"),
    ({"Precedence": "bulk"}, "bulk"),
    ({"Precedence": "list"}, "bulk"),
    ({"List_Id": "<news.example>"}, "list"),
    ({"Return_Path": "<>"}, "empty-return-path"),
    ({"X_Failed_Recipients": "ana@customers.test"}, "bounce"),
    ({"Auto_Submitted": "no"}, None),
    ({"Precedence": "normal"}, None),
    ({}, None),
])
def test_mails_never_answered(headers: dict[str, str], reason: str | None) -> None:
    assert loop_reason(mail(**headers)) == reason


def test_a_bounce_names_the_reply_it_returns() -> None:
    bounce = returned_mail("MAILER-DAEMON@mail.example", "rezervari@hotel-carpati.example",
                           "<abc.0@hotel-carpati.example>")
    assert loop_reason(bounce) == "bounce"
    assert bounced_ids(bounce)[0] == "<abc.0@hotel-carpati.example>"


def test_a_reply_is_in_the_thread_marked_auto_replied_and_signed_in_the_language() -> None:
    answered = Headers("<q2@customers.test>", "Cameră", ["<q1@customers.test>", "<r1@h.example>"],
                       "rezervari@hotel-carpati.example")
    reply = compose_reply(answered=answered, recipient="ana@customers.test", text="Avem.",
                          business_name="Hotel Carpați", locale="ro",
                          message_id="<m.0@hotel-carpati.example>")
    assert reply["In-Reply-To"] == "<q2@customers.test>"
    assert reply["References"].split() == ["<q1@customers.test>", "<r1@h.example>",
                                           "<q2@customers.test>"]
    assert reply["Auto-Submitted"] == "auto-replied"
    assert reply["Subject"] == "Re: Cameră"
    assert reply["From"].addresses[0].addr_spec == "rezervari@hotel-carpati.example"
    assert "asistentul virtual" in reply.get_content()
    assert loop_reason(reply) == "auto-submitted"  # our own replies are never answered either


def test_a_reply_staff_wrote_is_signed_by_the_business_and_not_marked_automatic() -> None:
    reply = compose_reply(answered=Headers("<q@c.test>", "Cameră", [], "rezervari@h.example"),
                          recipient="ana@customers.test", text="Vă așteptăm.",
                          business_name="Hotel Carpați", locale="ro", message_id="<m@h>",
                          by_agent=False)
    assert reply.get_content().endswith("-- \nHotel Carpați\n")
    assert reply["Auto-Submitted"] is None
    assert reply["In-Reply-To"] == "<q@c.test>"


def test_a_reply_subject_is_prefixed_once() -> None:
    assert reply_subject("RE: Cameră", "ro") == "RE: Cameră"
    assert reply_subject("", "en") == "Re: Your message"


def test_a_mangled_mail_is_read_without_raising() -> None:
    parsed = parse_mail(b"From: <<not an address\r\nSubject: =?bogus?Q?x?=\r\n"
                        b"Content-Type: text/plain; charset=no-such-charset\r\n\r\nBun\xe3 ziua")
    assert parsed.sender == ""  # no sender: recorded, never answered
    assert parsed.text.startswith("Bun")
    assert parsed.message_id.endswith("@no-message-id.invalid>")
