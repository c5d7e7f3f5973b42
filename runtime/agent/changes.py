"""Making the change a customer confirmed: book, reschedule or cancel through the booking
engine, with an idempotency key of the event that confirmed it, so a replayed turn changes
nothing twice."""

from __future__ import annotations

import datetime as dt
import uuid

from simptu.runtime.agent.state import (
    ConversationState,
    DoneChange,
    PendingChange,
    Reply,
    TurnContext,
    pending_change,
)
from simptu.runtime.agent.templates import say_date, say_when
from simptu.runtime.core import bookings
from simptu.runtime.core.language import Locale


async def execute(state: ConversationState, ctx: TurnContext) -> ConversationState:
    pending = pending_change(state)
    assert pending is not None, "execute runs only after a proposal was confirmed"
    locale = state.get("locale", "ro")
    key = f"agent:{ctx.event_id}"
    repository = ctx.repository
    done: DoneChange
    try:
        if pending["action"] == "cancel":
            booking = await repository.cancel(
                bookings.CancelRequest(booking_id=_booking_id(pending)), key)
            done = {"id": str(booking.id), "action": "cancelled"}
        elif pending["action"] == "reschedule":
            booking = await repository.reschedule(bookings.RescheduleRequest(
                booking_id=_booking_id(pending), start=_start(pending),
                resource_id=uuid.UUID(str(pending["resource_id"])),
                nights=pending["nights"] if _is_stay(pending, ctx) else None), key)
            done = {"id": str(booking.id), "action": "rescheduled"}
        else:
            booking = await _book(pending, locale, ctx, key)
            done = {"id": str(booking.id), "action": "booked"}
    except bookings.BookingError as error:
        return {"pending": None, "booking": {},
                "reply": Reply(key="failed", params={"reason": str(error)})}
    service = ctx.catalogue.service(booking.service_id)
    start = booking.start.astimezone(ctx.tz)
    when = (say_date(start.date(), locale) if service and service.kind == "night"
            else say_when(start, locale))
    return {"pending": None, "booking": {}, "done": [done],
            "reply": Reply(key=done["action"], params={**pending["params"], "when": when})}


def _booking_id(pending: PendingChange) -> uuid.UUID:
    return uuid.UUID(str(pending["booking_id"]))


def _start(pending: PendingChange) -> dt.datetime:
    return dt.datetime.fromisoformat(str(pending["start"]))


def _is_stay(pending: PendingChange, ctx: TurnContext) -> bool:
    service = ctx.catalogue.service(uuid.UUID(str(pending["service_id"])))
    return service is not None and service.kind == "night"


async def _book(pending: PendingChange, locale: Locale, ctx: TurnContext,
                key: str) -> bookings.Booking:
    customer = await ctx.repository.customer()
    if customer is None:
        customer = await ctx.repository.become_customer(ctx.stable_id("customer"),
                                                        pending["name"] or "", locale)
    return await ctx.repository.book(bookings.BookingRequest(
        service_id=uuid.UUID(str(pending["service_id"])),
        resource_id=uuid.UUID(str(pending["resource_id"])), customer_id=customer,
        start=_start(pending), nights=pending["nights"]), key)
