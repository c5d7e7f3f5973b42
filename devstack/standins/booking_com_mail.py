"""Booking.com's reservation e-mails to a property, as the stand-in sends them: written the
way Booking.com writes them (subject `New booking! (<number>, <check-in>)`, `Modified
booking!`, `Cancelled booking!`; one `Label: value` per line) and DKIM-signed with a key of
the stand-in's, whose public record the local stack's channel senders know in place of
booking.com's DNS (SIMPTU_RESERVATION_MAIL_DKIM_RECORDS)."""

from __future__ import annotations

import base64
import email.policy
import email.utils
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from simptu.devstack.standins.booking_com_payloads import QueuedReservation

SELECTOR = "simptu"
SENDER = "Booking.com <noreply@booking.com>"
CHANGES = {"Commit": "New", "Modify": "Modified", "Cancel": "Cancelled"}


@dataclass(frozen=True)
class DkimKey:
    """A domain's DKIM signing key and the TXT record that publishes it."""

    domain: str
    private_pem: bytes
    selector: str = SELECTOR

    @classmethod
    def generate(cls, domain: str) -> DkimKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(domain, key.private_bytes(serialization.Encoding.PEM,
                                             serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))

    @classmethod
    def kept_in(cls, path: Path, domain: str) -> DkimKey:
        """The key in `path`, made there (readable by its owner only) the first time."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_bytes(cls.generate(domain).private_pem)
        return cls(domain, path.read_bytes())

    @property
    def record_name(self) -> str:
        return f"{self.selector}._domainkey.{self.domain}"

    @property
    def record(self) -> str:
        key = serialization.load_pem_private_key(self.private_pem, password=None)
        public = key.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
        return "v=DKIM1; k=rsa; p=" + base64.b64encode(public).decode()

    def sign(self, message: EmailMessage) -> EmailMessage:
        raw = message.as_bytes(policy=email.policy.SMTP)
        header = dkim.sign(raw, self.selector.encode(), self.domain.encode(), self.private_pem,
                           include_headers=[b"from", b"to", b"subject", b"message-id", b"date"])
        signed = email.message_from_bytes(header + raw, policy=email.policy.default)
        assert isinstance(signed, EmailMessage), "policy.default makes EmailMessage"
        return signed


def reservation_mail(queued: QueuedReservation, to: str, sender: str = SENDER) -> EmailMessage:
    """Booking.com's mail telling the property of a new, modified or cancelled reservation."""
    check_in = f"{queued.check_in:%A, %d %B %Y}" if queued.check_in else "-"
    check_out = f"{queued.check_out:%A, %d %B %Y}" if queued.check_out else "-"
    message = EmailMessage()
    message["From"], message["To"] = sender, to
    message["Subject"] = (f"{CHANGES[queued.status]} booking! ({queued.reservation_id}, "
                          f"{check_in})")
    message["Date"] = email.utils.formatdate(localtime=False)
    message["Message-ID"] = email.utils.make_msgid(domain="booking.com")
    message.set_content(
        f"Booking number: {queued.reservation_id}\n"
        f"Guest name: {queued.given_name} {queued.surname}\n"
        f"Check-in: {check_in}\nCheck-out: {check_out}\n"
        f"Room: {queued.room_name or queued.room_type_code}\n"
        f"Total price: {queued.currency} {queued.total:.2f}\n\n"
        "Manage this booking in the Booking.com extranet.\n")
    return message
