"""Reservation e-mails as booking platforms send them, for the tests: Booking.com's (and a
generic confirmation of another platform), DKIM-signed with a key the test makes, whose public
half a DNS hook (`dnsfunc`) answers as the platform's TXT record would."""

from __future__ import annotations

import base64
import datetime as dt
import email.policy
import email.utils
import functools
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SELECTOR = b"s2026"


@functools.cache
def _private_key(domain: str) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass(frozen=True)
class PlatformKey:
    """A platform's DKIM key (made for the test run): signs its mails, publishes its record."""

    domain: str

    @property
    def private_pem(self) -> bytes:
        return _private_key(self.domain).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())

    @property
    def record(self) -> bytes:
        public = _private_key(self.domain).public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def sign(self, message: EmailMessage) -> EmailMessage:
        raw = message.as_bytes(policy=email.policy.SMTP)
        header = dkim.sign(raw, SELECTOR, self.domain.encode(), self.private_pem,
                           include_headers=[b"from", b"to", b"subject", b"message-id"])
        signed = email.message_from_bytes(header + raw, policy=email.policy.default)
        assert isinstance(signed, EmailMessage)
        return signed


def dns_of(*keys: PlatformKey) -> Callable[..., bytes | None]:
    """A `dnsfunc` that knows these platforms' DKIM records (and nothing else)."""
    records = {f"{SELECTOR.decode()}._domainkey.{key.domain}.".encode(): key.record
               for key in keys}

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return records.get(name)
    return lookup


def _mail(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = email.utils.make_msgid(domain=sender.rpartition("@")[2].rstrip(">"))
    message.set_content(body)
    return message


def booking_com_mail(reservation_id: str, check_in: dt.date, check_out: dt.date, *,
                     change: str = "New", guest: str = "Ana Pop", room: str = "Double room",
                     to: str = "rezervari@hotel.example",
                     sender: str = "noreply@booking.com") -> EmailMessage:
    """Booking.com's mail to a property: `change` New, Modified or Cancelled."""
    return _mail(f"Booking.com <{sender}>", to,
                 f"{change} booking! ({reservation_id}, {check_in:%A, %d %B %Y})",
                 f"Booking number: {reservation_id}\nGuest name: {guest}\n"
                 f"Check-in: {check_in:%A, %d %B %Y}\nCheck-out: {check_out:%A, %d %B %Y}\n"
                 f"Room: {room}\nTotal price: RON 900.00\n\n"
                 "Manage this booking in the extranet.\n")


def generic_confirmation(platform: str, reservation_id: str, check_in: dt.date,
                         check_out: dt.date) -> EmailMessage:
    """Another platform's confirmation of Ion Popescu's stay in a double room, in Romanian,
    with the dates written out."""
    return _mail(f"Rezervări <confirmari@{platform}>", "rezervari@hotel.example",
                 f"Confirmare rezervare {reservation_id}",
                 f"Bună ziua,\n\nNumăr rezervare: {reservation_id}\nNume oaspete: Ion Popescu\n"
                 f"Sosire: {check_in:%d.%m.%Y}\nPlecare: {check_out:%d.%m.%Y}\n"
                 "Tip cameră: Cameră dublă\nPreț total: 1.350,00 RON\n")


# The platforms of the tests: Booking.com, another platform the hotel lists, and a forger.
BOOKING = PlatformKey("booking.com")
OTHER = PlatformKey("rezervari-online.example")
MALLORY = PlatformKey("mallory.example")
OTHER_PLATFORMS = (OTHER.domain,)
KNOWN_KEYS = dns_of(BOOKING, OTHER, MALLORY)
