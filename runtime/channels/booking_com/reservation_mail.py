"""Reservation e-mails: a mail whose From address is a booking platform's (Booking.com, or a
platform the settings name) is read as a reservation only when the platform signed it (a DKIM
signature of its domain that verifies); anything else claiming to be one is for staff. Pure
functions: the DNS lookups of the public keys go through `dnsfunc` (dkimpy's hook), so tests
sign with a key of their own.

What is read (English or Romanian labels, one per line, `Label: value`): the reservation
number, the guest's name, check-in and check-out dates, the room type and the total; the
subject says whether it is a new, modified or cancelled reservation."""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from email.message import EmailMessage
from typing import Literal

import dkim
from pydantic import ValidationError

from simptu.runtime.channels.email.parse import body_text, header_text
from simptu.runtime.core.reservations import Reservation, ReservationAction

BOOKING_COM = "booking.com"
DnsFunc = Callable[..., bytes | None]
Verdict = Literal["reservation", "staff", "other"]

LABELS = {
    "reservation_id": ("booking number", "reservation number", "reservation id",
                       "confirmation number", "booking reference", "reservation code",
                       "număr rezervare", "numar rezervare", "cod rezervare"),
    "guest_name": ("guest name", "guest", "name", "nume oaspete", "oaspete", "nume"),
    "check_in": ("check-in", "check in", "arrival", "sosire"),
    "check_out": ("check-out", "check out", "departure", "plecare"),
    "room_type": ("room type", "room", "unit", "tip cameră", "tip camera", "cameră", "camera"),
    "total": ("total price", "total", "amount", "preț total", "pret total", "total de plată"),
}
CANCELLED = re.compile(r"(?i)\b(cancel+ed|cancel+ation|anulat[ăa]?|anulare)\b")
MODIFIED = re.compile(r"(?i)\b(modified|changed|modification|modificat[ăa]?|modificare)\b")
MONTHS = {name: number for number, names in enumerate((
    ("january", "ianuarie"), ("february", "februarie"), ("march", "martie"),
    ("april", "aprilie"), ("may", "mai"), ("june", "iunie"), ("july", "iulie"),
    ("august",), ("september", "septembrie"), ("october", "octombrie"),
    ("november", "noiembrie"), ("december", "decembrie")), start=1) for name in names}
LINE = re.compile(r"^\s*([^:\n]{2,40}?)\s*:\s*(.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class ReservationMail:
    """What a mail is: a platform's `reservation`, one for `staff` (why: `reason`), or
    `other` (no platform's: an ordinary mail)."""

    verdict: Verdict
    source: str = ""
    reservation: Reservation | None = None
    reason: str = ""


def read_reservation_mail(message: EmailMessage, platforms: Sequence[str],
                          dnsfunc: DnsFunc | None = None) -> ReservationMail:
    """Recognise a reservation mail of one of `platforms` (their domains; Booking.com's is
    always one)."""
    sender = _from_address(message)
    domain = sender.rpartition("@")[2]
    source = next((platform for platform in (BOOKING_COM, *platforms)
                   if domain == platform or domain.endswith("." + platform)), None)
    if source is None:
        return ReservationMail("other")
    trouble = signature_trouble(message, source, dnsfunc)
    if trouble:
        return ReservationMail("staff", source, reason=trouble)
    try:
        reservation = read_reservation(source, header_text(message, "Subject"),
                                       body_text(message))
    except (ValueError, ValidationError, InvalidOperation) as error:
        return ReservationMail("staff", source, reason=f"not understood: {_short(error)}")
    return ReservationMail("reservation", source, reservation)


def _from_address(message: EmailMessage) -> str:
    found = email.utils.getaddresses([header_text(message, "From")])
    return found[0][1].strip().lower() if found else ""


def _short(error: Exception) -> str:
    return str(error).splitlines()[0][:200]


def signature_trouble(message: EmailMessage, domain: str, dnsfunc: DnsFunc | None) -> str:
    """Why the mail is not signed by `domain` (empty when a DKIM signature of that domain,
    or of one of its subdomains, verifies)."""
    raw = message.as_bytes(policy=email.policy.SMTP)
    signatures = message.get_all("DKIM-Signature") or []
    if not signatures:
        return f"unsigned: no DKIM signature, though it comes from {domain}"
    checker = dkim.DKIM(raw)
    lookups = {"dnsfunc": dnsfunc} if dnsfunc is not None else {}
    signers = []
    for index, signature in enumerate(signatures):
        tags = dict(part.strip().split("=", 1) for part in str(signature).split(";")
                    if "=" in part)
        signer = re.sub(r"\s+", "", tags.get("d", "")).lower()
        signers.append(signer)
        if signer != domain and not signer.endswith("." + domain):
            continue
        try:
            if checker.verify(idx=index, **lookups):
                return ""
        except dkim.DKIMException:
            continue
    return (f"forged: no DKIM signature of {domain} verifies (signed by "
            f"{', '.join(signers) or 'nobody'})")


def read_reservation(source: str, subject: str, text: str) -> Reservation:
    """The reservation a platform's mail tells; ValueError when it does not tell one."""
    fields: dict[str, str] = {}
    for label, value in LINE.findall(text):
        for name, labels in LABELS.items():
            if label.strip().casefold() in labels and name not in fields:
                fields[name] = value
    if "reservation_id" not in fields:
        raise ValueError("no reservation number")
    action: ReservationAction = ("cancel" if CANCELLED.search(subject) else
                                 "modify" if MODIFIED.search(subject) else "new")
    values: dict[str, object] = {"source": source, "action": action,
                                 "reservation_id": fields["reservation_id"].strip()}
    if action != "cancel":
        values |= {"guest_name": fields.get("guest_name", "").strip(),
                   "room_type": fields.get("room_type", "").strip(),
                   "check_in": read_date(fields.get("check_in", "")),
                   "check_out": read_date(fields.get("check_out", ""))}
        values |= read_total(fields.get("total", ""))
    return Reservation.model_validate(values)


def read_date(value: str) -> dt.date:
    """`2027-06-01`, `01.06.2027`, `1 June 2027`, `Saturday, 1 June 2027`, `June 1, 2027`,
    `1 iunie 2027`."""
    text = value.strip().casefold()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return dt.date.fromisoformat(text)
    dotted = re.fullmatch(r"(\d{1,2})[./](\d{1,2})[./](\d{4})", text)
    if dotted:
        return dt.date(int(dotted[3]), int(dotted[2]), int(dotted[1]))
    words = re.findall(r"[^\W\d_]+|\d+", text)
    month = next((MONTHS[word] for word in words if word in MONTHS), None)
    numbers = [int(word) for word in words if word.isdigit()]
    years = [number for number in numbers if number > 31]
    days = [number for number in numbers if 1 <= number <= 31]
    if month is None or len(years) != 1 or len(days) != 1:
        raise ValueError(f"not a date: {value!r}")
    return dt.date(years[0], month, days[0])


def read_total(value: str) -> dict[str, object]:
    """`RON 900.00`, `900,00 RON`, `EUR 1,250.50`: the amount and currency (none if absent)."""
    currency = re.search(r"\b([A-Z]{3})\b", value)
    amount = re.search(r"\d[\d.,\s]*", value)
    if currency is None or amount is None:
        return {}
    digits = re.sub(r"\s", "", amount[0]).rstrip(".,")
    if re.search(r",\d{2}$", digits):  # a decimal comma
        digits = digits.replace(".", "").replace(",", ".")
    return {"total": Decimal(digits.replace(",", "")), "currency": currency[1]}
