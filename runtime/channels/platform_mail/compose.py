"""What each event of a tenant's `events` topic becomes as a platform mail, read inside the
tenant's unit of work: an invitation (while it is still pending), a requested mail (an access
code), a booking's confirmation (made or moved), its cancellation, and the rating request of a
completed booking not rated yet (its link: the rating page, with a proof only the platform
can make). Booking mails go to customers with an e-mail address only, in their own
language."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import asyncpg

from simptu.runtime.channels.platform_mail.render import locale_of, when_text
from simptu.runtime.core.crypto import TenantCipher
from simptu.runtime.core.events import CloudEvent
from simptu.runtime.core.invitations import INVITATIONS
from simptu.runtime.core.mail import MailKind
from simptu.runtime.core.mail.rating_links import rating_proof
from simptu.runtime.core.mail.requests import MAIL_REQUESTED, MailRequested, open_request
from simptu.runtime.core.registry import TenantRecord

CUSTOMERS = "customers"
BOOKING_KINDS: dict[str, MailKind] = {
    "io.simptu.booking.created": "booking-confirmed",
    "io.simptu.booking.rescheduled": "booking-confirmed",
    "io.simptu.booking.cancelled": "booking-cancelled",
    "io.simptu.booking.completed": "rating-request",
}
INVITATION_CREATED = "io.simptu.invitation.created"

# The booking, what (named in the customer's language) and whom it is for, and its
# customer's address and language.
BOOKING = """
    SELECT b.id, COALESCE(sv.names ->> left(c.locale, 2), sv.name) AS service,
           r.name AS resource, c.id AS customer_id, c.name, c.email, c.locale,
           EXISTS (SELECT 1 FROM ratings WHERE booking_id = b.id) AS rated
    FROM bookings b JOIN services sv ON sv.id = b.service_id
    JOIN resources r ON r.id = b.resource_id JOIN customers c ON c.id = b.customer_id
    WHERE b.id = $1"""


@dataclass(frozen=True)
class Outgoing:
    """A mail to send: its kind, recipient, language and the template's values."""

    kind: MailKind
    to: str
    locale: str
    values: dict[str, str]


# Each composer gets the unit of work, the tenant's cipher, the tenant, the event, and the
# platform's public base URL (where the links of its pages point).
Composer = Callable[[asyncpg.Connection, TenantCipher, TenantRecord, CloudEvent, str],
                    Awaitable[Outgoing | None]]


def business_of(tenant: TenantRecord) -> str:
    return tenant.display_name or tenant.slug


async def invitation(conn: asyncpg.Connection, cipher: TenantCipher, tenant: TenantRecord,
                     event: CloudEvent, _base_url: str) -> Outgoing | None:
    invitation_id = uuid.UUID(event.data["invitation_id"])
    row = await conn.fetchrow("SELECT status, locale, expires_at FROM invitations WHERE id = $1",
                              invitation_id)
    if row is None or row["status"] != "pending":
        return None  # revoked (or accepted) before its mail went: nothing to send
    email = await cipher.open_text(INVITATIONS, "email", invitation_id,
                                   base64.b64decode(event.data["email_sealed"]))
    token = await cipher.open_text(INVITATIONS, "token", invitation_id,
                                   base64.b64decode(event.data["token_sealed"]))
    locale = locale_of(row["locale"], tenant.locale)
    return Outgoing("invitation", email, locale, {
        "business": business_of(tenant), "role": event.data["role"],
        "accept_url": event.data["accept_path"].replace("{token}", token),
        "expires": when_text(row["expires_at"], tenant.timezone, locale)})


async def requested(conn: asyncpg.Connection, cipher: TenantCipher, tenant: TenantRecord,
                    event: CloudEvent, _base_url: str) -> Outgoing | None:
    request = MailRequested.model_validate(event.data)
    to, values = await open_request(cipher, request)
    return Outgoing(request.kind, to, locale_of(request.locale, tenant.locale),
                    {"business": business_of(tenant), **values})


async def booking(conn: asyncpg.Connection, cipher: TenantCipher, tenant: TenantRecord,
                  event: CloudEvent, base_url: str) -> Outgoing | None:
    kind = BOOKING_KINDS[event.type]
    booking_id = uuid.UUID(event.data["id"])
    row = await conn.fetchrow(BOOKING, booking_id)
    if row is None or row["email"] is None or (kind == "rating-request" and row["rated"]):
        return None
    locale = locale_of(row["locale"], tenant.locale)
    start = dt.datetime.fromisoformat(event.data["start"])  # the time the event tells of
    values = {"business": business_of(tenant), "service": row["service"],
              "resource": row["resource"], "reference": str(booking_id)[:8].upper(),
              "when": when_text(start, tenant.timezone, locale),
              "name": await cipher.open_text(CUSTOMERS, "name", row["customer_id"], row["name"])
              if row["name"] is not None else ""}
    if kind == "rating-request":  # the rating page, for the customer of this booking only
        proof = await rating_proof(cipher, booking_id, dt.datetime.now(dt.UTC))
        values["rate_url"] = (f"{base_url.rstrip('/')}/ratings/{tenant.slug}/rate?"
                              f"{urlencode({'booking': str(booking_id), 'proof': proof})}"
                              if base_url else "")
    email = await cipher.open_text(CUSTOMERS, "email", row["customer_id"], row["email"])
    return Outgoing(kind, email, locale, values)


def composer_of(event_type: str) -> Composer | None:
    if event_type == INVITATION_CREATED:
        return invitation
    if event_type == MAIL_REQUESTED:
        return requested
    if event_type in BOOKING_KINDS:
        return booking
    return None
