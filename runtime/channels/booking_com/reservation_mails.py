"""Reservation mails in the mail ingest: a recogniser of `MailDispatch` (tried before a mail
becomes a conversation message). A platform's signed reservation mail is applied to the
hotel's bookings; one that claims to be a reservation but is unsigned, forged or not
understood, or one that cannot be booked, is handed to staff in a conversation with its
sender (the agent never answers it). Any other mail is left to the ingest."""

from __future__ import annotations

import dataclasses
import zoneinfo
from collections.abc import Sequence

import dns.exception
import dns.resolver
import structlog

from simptu.runtime.channels.booking_com.reservation_mail import (
    DnsFunc,
    read_reservation_mail,
)
from simptu.runtime.channels.email.parse import InboundMail, addresses
from simptu.runtime.core.channels.contacts import Contact
from simptu.runtime.core.chat.actions import Conversations
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.registry import TenantRecord
from simptu.runtime.core.reservations import apply_reservation
from simptu.runtime.core.reservations.staff import hand_mail_to_staff

log = structlog.get_logger(__name__)


def dns_with(known: dict[str, str]) -> DnsFunc:
    """DKIM's TXT lookups: `known` records (name → record, e.g. a local stack's demo keys)
    first, then DNS."""
    records = {name.rstrip(".").lower(): record.encode() for name, record in known.items()}

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        held = records.get(name.decode().rstrip(".").lower())
        if held is not None:
            return held
        try:
            answer = dns.resolver.resolve(name.decode(), "TXT", lifetime=timeout)
        except dns.exception.DNSException:
            return None
        return b"".join(b"".join(item.strings) for item in answer)
    return lookup


@dataclasses.dataclass(frozen=True)
class ReservationMails:
    conversations: Conversations
    # Domains of platforms besides Booking.com whose confirmations are read.
    platforms: Sequence[str] = ()
    dnsfunc: DnsFunc | None = None

    async def recognise(self, tenant: TenantRecord, mailbox: str, mail: InboundMail) -> bool:
        """Whether the mail was a reservation's (booked, or handed to staff)."""
        found = read_reservation_mail(mail.message, self.platforms, self.dnsfunc)
        if found.verdict == "other":
            return False
        if found.reservation is not None:
            async with TenantUnitOfWork(self.conversations.pool, tenant.names) as conn:
                applied = await apply_reservation(
                    conn, self.conversations.keyring.cipher(tenant.names, conn), tenant.names,
                    zoneinfo.ZoneInfo(tenant.timezone), found.reservation)
            log.info("reservation mail", tenant=tenant.slug, source=found.source,
                     outcome=applied.outcome)
            if applied.outcome != "with_staff":
                return True
            note = f"{found.source} reservation not booked: {applied.detail}"
        else:
            note = f"a mail from {found.source} not booked: {found.reason}"
            log.warning("reservation mail handed to staff", tenant=tenant.slug,
                        source=found.source, reason=found.reason)
        sender = addresses(mail.message, "From")
        contact = Contact("email", sender[0][1] if sender else mail.sender, mail.language)
        await hand_mail_to_staff(self.conversations, tenant, contact, mail.message_id,
                                 f"{mail.subject}\n\n{mail.described()}", note)
        return True
