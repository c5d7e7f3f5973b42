"""What the operator keeps of `channels.email`: the addresses (lower-cased, each an identifier
of the routing registry so that two tenants never read one mailbox) and, only when the Tenant
names a Secret, the login of its own mail server."""

from __future__ import annotations

from simptu.operator.channels import _account
from simptu.runtime.channels.email.ingest import mailboxes_of
from simptu.runtime.core.channels.routing import EMAIL_ADDRESS, normalise

SPEC = {"addresses": ["Rezervari@Hotel-Carpati.example", "reservations@hotel-carpati.example"]}


def test_without_a_secret_the_addresses_are_read_on_the_platforms_server() -> None:
    account, ids = _account("email", SPEC, {}, "password")
    assert account.credentials == {
        "addresses": "rezervari@hotel-carpati.example,reservations@hotel-carpati.example"}
    assert ids == [(EMAIL_ADDRESS, "rezervari@hotel-carpati.example"),
                   (EMAIL_ADDRESS, "reservations@hotel-carpati.example")]
    boxes = mailboxes_of("hotel", account, "imap://mail.platform:143", "platform-password")
    assert [(b.address, b.username, b.password, b.imap_url) for b in boxes] == [
        ("rezervari@hotel-carpati.example", "rezervari@hotel-carpati.example",
         "platform-password", "imap://mail.platform:143"),
        ("reservations@hotel-carpati.example", "reservations@hotel-carpati.example",
         "platform-password", "imap://mail.platform:143")]


def test_a_secret_names_the_tenants_own_server_and_login() -> None:
    values = {"pass": "own-secret", "username": "hotel", "imapUrl": "imaps://imap.hotel:993",
              "smtpUrl": "smtps://smtp.hotel:465", "unrelated": "not copied"}
    account, _ = _account("email", SPEC, values, "pass")
    assert account.credentials == {
        "addresses": "rezervari@hotel-carpati.example,reservations@hotel-carpati.example",
        "password": "own-secret", "username": "hotel", "imapUrl": "imaps://imap.hotel:993",
        "smtpUrl": "smtps://smtp.hotel:465"}
    [first, _] = mailboxes_of("hotel", account, "imap://mail.platform:143", "platform-password")
    assert (first.imap_url, first.username, first.password) == (
        "imaps://imap.hotel:993", "hotel", "own-secret")


def test_no_server_or_no_password_reads_nothing() -> None:
    account, _ = _account("email", SPEC, {}, "password")
    assert mailboxes_of("hotel", account, "", "platform-password") == []
    assert mailboxes_of("hotel", account, "imap://mail.platform:143", "") == []


def test_addresses_are_registered_case_folded() -> None:
    assert normalise(EMAIL_ADDRESS, " Rezervari@Hotel-Carpati.EXAMPLE ") == (
        "rezervari@hotel-carpati.example")
