"""Making the change a customer confirmed: book, reschedule or cancel through the booking
engine, with an idempotency key of the event that confirmed it, so a replayed turn changes
nothing twice."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from simptu.runtime.agent.actions import become_customer, customer_of_session
from simptu.runtime.agent.dialogue import Update, booking_id_of
from simptu.runtime.agent.state import ConversationState, TurnContext
from simptu.runtime.agent.templates import say_date, say_when
from simptu.runtime.core import bookings


async def execute(state: ConversationState, ctx: TurnContext) -> Update:
    pending: dict[str, Any] = dict(state.get("pending") or {})
    locale = state.get("locale", "ro")
    key = f"agent:{ctx.event_id}"
    try:
        if pending["action"] == "cancel":
            booking = await bookings.cancel(
                ctx.conn, ctx.tenant.names,
                bookings.CancelRequest(booking_id=booking_id_of(pending)), idempotency_key=key)
            done_key = "cancelled"
        elif pending["action"] == "reschedule":
            booking = await bookings.reschedule(
                ctx.conn, ctx.tenant.names, bookings.RescheduleRequest(
                    booking_id=booking_id_of(pending),
                    start=dt.datetime.fromisoformat(pending["start"]),
                    resource_id=uuid.UUID(pending["resource_id"]),
                    nights=pending["nights"] if _is_stay(pending, ctx) else None),
                ctx.tz, idempotency_key=key)
            done_key = "rescheduled"
        else:
            booking = await _book(pending, locale, ctx, key)
            done_key = "booked"
    except bookings.BookingError as error:
        return {"pending": None, "booking": {},
                "reply": {"key": "failed", "params": {"reason": str(error)}}}
    service = ctx.catalogue.service(booking.service_id)
    start = booking.start.astimezone(ctx.tz)
    when = (say_date(start.date(), locale) if service and service.kind == "night"
            else say_when(start, locale))
    params = {**pending["params"], "when": when}
    return {"pending": None, "booking": {}, "done": [{"id": str(booking.id), "action": done_key}],
            "reply": {"key": done_key, "params": params}}


def _is_stay(pending: dict[str, Any], ctx: TurnContext) -> bool:
    service = ctx.catalogue.service(uuid.UUID(pending["service_id"]))
    return service is not None and service.kind == "night"


async def _book(pending: dict[str, Any], locale: str, ctx: TurnContext,
                key: str) -> bookings.Booking:
    customer = await customer_of_session(ctx.conn, ctx.session)
    if customer is None:
        customer = await become_customer(ctx.conn, ctx.cipher, ctx.session,
                                         ctx.stable_id("customer"), pending.get("name") or "",
                                         "ro" if locale == "ro" else "en")
    return await bookings.book(ctx.conn, ctx.tenant.names, bookings.BookingRequest(
        service_id=uuid.UUID(pending["service_id"]), resource_id=uuid.UUID(pending["resource_id"]),
        customer_id=customer, start=dt.datetime.fromisoformat(pending["start"]),
        nights=pending.get("nights") or 1), ctx.tz, idempotency_key=key)
