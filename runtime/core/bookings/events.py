"""The events a booking change produces (`io.simptu.booking.created`, `.rescheduled`,
`.cancelled`, `.completed`), written to the tenant's outbox in the transaction that made it."""

from __future__ import annotations

from typing import Any, Literal

import asyncpg

from simptu.runtime.core.bookings.models import Booking
from simptu.runtime.core.events.cloudevents import CloudEvent
from simptu.runtime.core.events.outbox import enqueue
from simptu.runtime.core.tenancy import TenantNames

EVENT_SOURCE = "/simptu/bookings"
Change = Literal["created", "rescheduled", "cancelled", "completed"]


def booking_event(tenant: TenantNames, change: Change, booking: Booking,
                  previous: Booking | None = None) -> CloudEvent:
    """The event of one change; a reschedule also says where the booking was before. Only ids
    and times: no personal data travels in events."""
    data: dict[str, Any] = booking.model_dump(mode="json")
    if previous is not None:
        data["previous"] = previous.model_dump(mode="json", include={"resource_id", "start", "end"})
    return CloudEvent(source=EVENT_SOURCE, type=f"io.simptu.booking.{change}",
                      tenantid=tenant.slug, subject=str(booking.id), data=data)


async def publish_change(conn: asyncpg.Connection, tenant: TenantNames, change: Change,
                         booking: Booking, previous: Booking | None = None) -> None:
    """Enqueue the event on `simptu.<tenant>.events`, keyed by booking so a booking's events
    stay in order."""
    await enqueue(conn, booking_event(tenant, change, booking, previous),
                  tenant.topic("events"), str(booking.id))
