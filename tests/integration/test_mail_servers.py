"""The stack's mail servers: what the platform's relay accepts reaches the addressee's mailbox,
and what the relay refuses comes back as the sender's error."""

from __future__ import annotations

import uuid
from email.message import EmailMessage

import pytest

from simptu.devstack.envfile import StackEnv
from simptu.runtime.channels.email.smtp import MailRelay, RelayAddress
from simptu.runtime.channels.send_errors import SendError
from tests.mailboxes import wait_for_mail


def _mail(to: str, subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "programari@zambet-dental.example"
    message["To"] = to
    message["Subject"] = subject
    message.set_content("Vă așteptăm mâine la 10:00.")
    return message


async def test_a_mail_the_relay_accepts_arrives_in_the_addressees_mailbox(
        stack: StackEnv) -> None:
    to, subject = f"ana.{uuid.uuid4().hex[:8]}@customers.test", f"Programare {uuid.uuid4()}"
    await MailRelay(stack["SIMPTU_MAIL_SMTP_URL"]).send(_mail(to, subject))
    arrived = await wait_for_mail(stack, to, lambda mail: mail["Subject"] == subject)
    assert arrived.get_content().strip() == "Vă așteptăm mâine la 10:00."
    # Postfix gave it a Message-ID and Dovecot the envelope's addressee.
    assert arrived["Message-ID"]
    assert arrived["Delivered-To"] == to


async def test_a_recipient_the_relay_refuses_is_a_permanent_send_error(stack: StackEnv) -> None:
    with pytest.raises(SendError) as refused:
        # An address literal that is no IP address: Postfix answers 501.
        await MailRelay(stack["SIMPTU_MAIL_SMTP_URL"]).send(_mail("ana@[999.0.0.1]", "x"))
    assert refused.value.kind == "permanent"
    assert refused.value.code.startswith("5")


async def test_an_address_that_is_no_address_is_a_permanent_send_error(stack: StackEnv) -> None:
    with pytest.raises(SendError) as refused:
        await MailRelay(stack["SIMPTU_MAIL_SMTP_URL"]).send(_mail("not an address", "x"))
    assert (refused.value.kind, refused.value.code) == ("permanent", "address")


async def test_a_relay_that_does_not_answer_is_a_transient_send_error() -> None:
    with pytest.raises(SendError) as refused:
        # Port 9 (discard) has no listener here: the connection is refused at once.
        await MailRelay("smtp://127.0.0.1:9", timeout=5).send(_mail("a@customers.test", "x"))
    assert refused.value.kind == "transient"


@pytest.mark.parametrize(("url", "problem"), [("http://mail:25", "smtp://"),
                                              ("smtp://", "smtp://")])
def test_a_relay_url_that_is_not_smtp_is_refused_with_what_it_should_be(
        url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        RelayAddress.parse(url)


def test_a_relay_url_carries_its_login_and_tls() -> None:
    relay = RelayAddress.parse("smtps://mailer%40simptu.example:p%40ss@relay.example")
    assert (relay.host, relay.port, relay.implicit_tls) == ("relay.example", 465, True)
    assert relay.login is not None
    assert (relay.login.username, relay.login.password) == (
        "mailer@simptu.example", "p@ss")
