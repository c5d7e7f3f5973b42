"""What the agent answers, decided from what the customer wants and what the tenant's data
says: information, the next question of a booking, or a change to propose for confirmation.
Returns state updates; the change itself is made only after the customer's yes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from simptu.runtime.agent.actions import (
    customer_of_session,
    free_rooms,
    free_slots,
    hand_off,
    next_booking,
    opening_hours,
    price_list,
    say_price,
)
from simptu.runtime.agent.language import Locale
from simptu.runtime.agent.state import ConversationState, TurnContext
from simptu.runtime.agent.templates import say_date, say_list, say_when
from simptu.runtime.core.bookings.models import Booking, Service, Slot
from simptu.runtime.core.knowledge import search_entries

FLOW_INTENTS = {"book", "availability", "reschedule", "cancel"}
# Questions that interrupt a booking in progress; anything else naming a slot continues it.
ASIDE_INTENTS = {"hours", "prices", "services", "handoff"}
TIMES_OFFERED = 6

Update = dict[str, Any]


def _reply(key: str, **params: object) -> Update:
    return {"reply": {"key": key, "params": params}}


async def decide(state: ConversationState, ctx: TurnContext) -> Update:
    understanding = state.get("understanding") or {}
    intent, slots = understanding.get("intent", "question"), understanding.get("slots", {})
    flow = dict(state.get("booking") or {})
    locale = state.get("locale", "ro")
    continues_booking = bool(flow.get("action") and slots)
    if intent == "question" and "service" in slots and ("date" in slots or "time" in slots):
        intent = "book"  # "yoga miercuri la 18": a service and when is a booking request
    if intent == "question" and not continues_booking:
        # What no rule recognised: the tenant's FAQ first, then the model's best guess.
        answer = await _faq_answer(ctx, state.get("inbound", {}).get("text", ""), locale)
        if answer is not None:
            return _reply("answer", answer=answer)
        intent = understanding.get("guess") or "question"
    if intent in FLOW_INTENTS:
        action = "book" if intent == "availability" else intent
        if flow.get("action") != action:
            flow = {"action": action, "name": flow.get("name")}
    elif not (continues_booking and intent not in ASIDE_INTENTS):
        return await _inform(intent, slots, locale, ctx)
    flow.update(slots)
    planner = {"book": _plan_booking, "reschedule": _plan_reschedule, "cancel": _plan_cancel}
    update = await planner[flow["action"]](flow, locale, ctx)
    return {"booking": flow, "pending": None, **update}


async def _faq_answer(ctx: TurnContext, text: str, locale: Locale) -> str | None:
    if ctx.embedder is None or not text:
        return None
    # The FAQ in the customer's language first, then in any (better than no answer).
    hits = (await search_entries(ctx.conn, ctx.embedder, text, locale, limit=1)
            or await search_entries(ctx.conn, ctx.embedder, text, None, limit=1))
    return hits[0].answer if hits else None


async def _inform(intent: str, slots: dict[str, Any], locale: Locale,
                  ctx: TurnContext) -> Update:
    catalogue = ctx.catalogue
    if intent == "greeting":
        return _reply("greeting", business=ctx.tenant.display_name or ctx.tenant.slug)
    if intent == "hours":
        return _reply("hours", hours=opening_hours(catalogue, locale))
    if intent == "prices":
        service = catalogue.service_named(slots["service"]) if "service" in slots else None
        if service is not None:
            return _reply("price_of", service=service.name,
                          price=say_price(service.price, service.currency))
        return _reply("prices", prices=price_list(catalogue, locale))
    if intent == "services":
        return _reply("services", services=say_list((s.name for s in catalogue.services), locale))
    if intent == "handoff":
        await hand_off(ctx.conn, ctx.tenant, ctx.session)
        return _reply("handoff")
    if intent == "thanks":
        return _reply("thanks")
    return _reply("unknown")


def _noun(ctx: TurnContext, locale: Locale) -> str:
    return ctx.business.booking_noun[locale]


async def _plan_booking(flow: dict[str, Any], locale: Locale, ctx: TurnContext) -> Update:
    service = ctx.catalogue.service_named(flow.get("service") or "")
    if service is None:
        return _reply("ask_service",
                      services=say_list((s.name for s in ctx.catalogue.services), locale))
    if "date" not in flow:
        return _reply("ask_check_in" if service.kind == "night" else "ask_date",
                      service=service.name)
    day = dt.date.fromisoformat(flow["date"])
    if service.kind == "night":
        slot = await _room(flow, service, day, locale, ctx)
    else:
        slot = await _appointment(flow, service, day, locale, ctx)
    if not isinstance(slot, Slot):
        return slot
    customer = await customer_of_session(ctx.conn, ctx.session)
    if customer is None and not flow.get("name"):
        return _reply("ask_name", noun=_noun(ctx, locale))
    return _propose("book", service, slot, flow, locale, ctx)


async def _room(flow: dict[str, Any], service: Service, day: dt.date, locale: Locale,
                ctx: TurnContext, moving: Booking | None = None) -> Slot | Update:
    """A room free for the stay; when a stay is moved, its own room if that is free."""
    nights = int(flow.get("nights") or 1)
    flow["nights"] = nights
    rooms = await free_rooms(ctx.conn, service, day, nights, ctx.tz,
                             moving.id if moving else None)
    if not rooms:
        return _reply("no_room", service=service.name, nights=nights,
                      date=say_date(day, locale))
    return _own_first(rooms, moving)[0]


async def _appointment(flow: dict[str, Any], service: Service, day: dt.date, locale: Locale,
                       ctx: TurnContext, moving: Booking | None = None) -> Slot | Update:
    slots = await free_slots(ctx.conn, service, day, ctx.tz, moving.id if moving else None)
    if not slots:
        flow.pop("date", None)
        flow.pop("time", None)
        return _reply("day_full", service=service.name, date=say_date(day, locale))
    local = [(slot.start.astimezone(ctx.tz), slot) for slot in slots]
    times = say_list(sorted({f"{start:%H:%M}" for start, _ in local})[:TIMES_OFFERED], locale)
    if "time" not in flow:
        return _reply("ask_time", service=service.name, date=say_date(day, locale), times=times)
    wanted = dt.time.fromisoformat(flow["time"])
    chosen = _own_first([slot for start, slot in local if start.time() == wanted], moving)
    if not chosen:
        flow.pop("time", None)
        return _reply("time_taken", time=f"{wanted:%H:%M}", date=say_date(day, locale),
                      times=times)
    return chosen[0]


def _own_first(slots: list[Slot], moving: Booking | None) -> list[Slot]:
    """`slots`, those on the moved booking's own room or staff member first (a customer
    moving an appointment keeps their dentist when they can)."""
    if moving is None:
        return slots
    return sorted(slots, key=lambda slot: slot.resource_id != moving.resource_id)


def _propose(action: str, service: Service, slot: Slot, flow: dict[str, Any], locale: Locale,
             ctx: TurnContext, previous: dict[str, Any] | None = None) -> Update:
    resource = ctx.catalogue.resource(slot.resource_id)
    start = slot.start.astimezone(ctx.tz)
    stay = service.kind == "night"
    params = {"noun": _noun(ctx, locale), "service": service.name,
              "when": say_date(start.date(), locale) if stay else say_when(start, locale),
              "resource": resource.name if resource else "", "name": flow.get("name") or "",
              "nights": flow.get("nights") or 1, **(previous or {})}
    key = {"book": "propose_stay" if stay else "propose_book",
           "reschedule": "propose_move_stay" if stay else "propose_reschedule"}[action]
    pending = {"action": action, "call_id": f"confirm-{ctx.stable_id('call')}",
               "service_id": str(service.id), "resource_id": str(slot.resource_id),
               "start": slot.start.isoformat(), "nights": int(flow.get("nights") or 1),
               "name": flow.get("name"), "params": params,
               "booking_id": (previous or {}).get("booking_id")}
    return {**_reply(key, **params), "pending": pending}


async def _booking_to_change(locale: Locale, ctx: TurnContext) -> Booking | Update:
    """The customer's next booking, or the reply that they have none."""
    booking = await next_booking(ctx.conn, await customer_of_session(ctx.conn, ctx.session))
    if booking is None:
        return _reply("no_booking", noun=_noun(ctx, locale),
                      noun_plain=_noun(ctx, locale).removesuffix("a"))
    return booking


async def _plan_cancel(flow: dict[str, Any], locale: Locale, ctx: TurnContext) -> Update:
    booking = await _booking_to_change(locale, ctx)
    if not isinstance(booking, Booking):
        return booking
    service = ctx.catalogue.service(booking.service_id)
    params = {"noun": _noun(ctx, locale), "service": service.name if service else "",
              "when": say_when(booking.start.astimezone(ctx.tz), locale)}
    pending = {"action": "cancel", "call_id": f"confirm-{ctx.stable_id('call')}",
               "booking_id": str(booking.id), "params": params}
    return {**_reply("propose_cancel", **params), "pending": pending}


async def _plan_reschedule(flow: dict[str, Any], locale: Locale, ctx: TurnContext) -> Update:
    booking = await _booking_to_change(locale, ctx)
    if not isinstance(booking, Booking):
        return booking
    service = ctx.catalogue.service(booking.service_id)
    assert service is not None
    old_start = booking.start.astimezone(ctx.tz)
    stay = service.kind == "night"
    old = say_date(old_start.date(), locale) if stay else say_when(old_start, locale)
    if "date" not in flow or ("time" not in flow and not stay):
        return _reply("ask_new_check_in" if stay else "ask_new_time", noun=_noun(ctx, locale),
                      service=service.name, when=old)
    day = dt.date.fromisoformat(flow["date"])
    if stay:
        # A moved stay keeps its length unless the customer names another.
        flow.setdefault("nights", (booking.end.astimezone(ctx.tz).date() - old_start.date()).days)
        slot = await _room(flow, service, day, locale, ctx, moving=booking)
    else:
        slot = await _appointment(flow, service, day, locale, ctx, moving=booking)
    if not isinstance(slot, Slot):
        return slot
    return _propose("reschedule", service, slot, flow, locale, ctx,
                    previous={"old": old, "booking_id": str(booking.id)})


def booking_id_of(pending: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(pending["booking_id"])
