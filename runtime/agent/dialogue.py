"""What the agent answers, decided from what the customer wants and what the tenant's data
says: information, the next question of a booking, or a change to propose for confirmation.
Returns state updates; the change itself is made only after the customer's yes. The tenant's
data comes through the turn's `AgentRepository`."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from simptu.runtime.agent.catalogue import hours_on, opening_hours, price_list, say_price
from simptu.runtime.agent.intents import Intent, named_request
from simptu.runtime.agent.repository import AgentRepository
from simptu.runtime.agent.state import (
    BookingFlow,
    ChangeAction,
    ConversationState,
    Params,
    PendingChange,
    Reply,
    TurnContext,
)
from simptu.runtime.agent.templates import say_date, say_list, say_part_of_day, say_when
from simptu.runtime.core.bookings.models import Booking, Service, Slot
from simptu.runtime.core.language import Locale, strip_diacritics

FLOW_INTENTS: dict[Intent, ChangeAction] = {
    "book": "book", "availability": "book", "reschedule": "reschedule", "cancel": "cancel"}
# Questions that interrupt a booking in progress; anything else naming a slot continues it.
ASIDE_INTENTS = {"hours", "prices", "services", "handoff"}
TIMES_OFFERED = 6
# Where each part of the day begins and ends, in the tenant's time.
PARTS_OF_DAY = {"morning": (dt.time(0), dt.time(12)), "afternoon": (dt.time(12), dt.time(17)),
                "evening": (dt.time(17), dt.time.max)}

Slots = Mapping[str, str | int]
# A word of "do you have X?" is found in a FAQ answer by its first letters ("parking",
# "car park"); words shorter than MIN_CONTENT_LETTERS ("de", "un") say nothing.
CONTENT_STEM = 4
MIN_CONTENT_LETTERS = 3
# A reply that is nothing but a name: one to four words of letters.
NAME_ONLY = re.compile(r"[^\W\d_][^\W\d_'.-]*(?:[ '-][^\W\d_][^\W\d_'.-]*){0,3}")


def _reply(key: str, **params: str | int) -> ConversationState:
    return {"reply": Reply(key=key, params=params)}


async def decide(state: ConversationState, ctx: TurnContext) -> ConversationState:
    understanding = state.get("understanding")
    intent: Intent = understanding["intent"] if understanding else "question"
    slots: Slots = understanding["slots"] if understanding else {}
    flow = BookingFlow(**state.get("booking", {}))
    locale = state.get("locale", "ro")
    if intent == "question" and flow.get("action") and "name" not in slots:
        slots = {**slots, **_bare_name(state)}
    continues_booking = bool(flow.get("action") and slots)
    inbound = state.get("inbound")
    if intent == "question":
        # "yoga miercuri la 18": a service and when is a booking request, not a FAQ question.
        intent = named_request(inbound["text"] if inbound else "", slots) or intent
    if intent == "question" and not continues_booking:
        intent, answer = await faq_or_guess(
            ctx.repository, inbound["text"] if inbound else "", slots,
            understanding.get("guess") if understanding else None, locale)
        if answer is not None:
            return _reply("answer", answer=answer)
    if intent in FLOW_INTENTS:
        action = FLOW_INTENTS[intent]
        if flow.get("action") != action:
            flow = BookingFlow(action=action, name=flow.get("name"))
    elif not (continues_booking and intent not in ASIDE_INTENTS):
        return await _inform(intent, slots, locale, ctx)
    return await plan(_with_slots(flow, slots), locale, ctx)


async def faq_or_guess(repository: AgentRepository, text: str, slots: Slots,
                       guess: Intent | None, locale: Locale) -> tuple[Intent, str | None]:
    """What a message no rule recognised is taken for: the tenant's FAQ answer first
    ("question", the answer); for "aveti zumba?" that the FAQ does not answer, whether the
    business offers it ("services": honest, with what there is); else the model's guess.
    The dialogue, a hosted model's FAQ tool and the evaluation all decide here."""
    entry = await repository.faq_answer(text, locale)
    asked_for = str(slots.get("asked_for") or "")
    # The FAQ's nearest entry to "aveti zumba?" may be its parking answer: a question whether
    # something is offered takes only an entry that names it.
    if entry is not None and (not asked_for or _names_any(
            f"{entry.question} {entry.answer}", asked_for)):
        return "question", entry.answer
    if asked_for:
        return "services", None
    return guess or "question", None


def _names_any(entry: str, asked_for: str) -> bool:
    """Whether `entry` has a word of `asked_for` ("parcare" in "parcarea", "parking" in
    "car park"), by its first letters, so an inflected or plural form counts."""
    words = re.findall(r"[a-z]+", strip_diacritics(entry.lower()))
    stems = [word[:CONTENT_STEM] for word in re.findall(r"[a-z]+", asked_for.lower())
             if len(word) >= MIN_CONTENT_LETTERS]
    return any(word.startswith(stem) for stem in stems for word in words)


async def plan(flow: BookingFlow, locale: Locale, ctx: TurnContext) -> ConversationState:
    """The next step of the change `flow` arranges: the question it still needs answered, or
    the change proposed for confirmation (`pending`); never the change itself. The dialogue
    and a hosted model's change tools (tools.py) both plan here."""
    if flow["action"] == "cancel":
        update = await _plan_cancel(flow, locale, ctx)
    elif flow["action"] == "reschedule":
        update = await _plan_reschedule(flow, locale, ctx)
    else:
        update = await _plan_booking(flow, locale, ctx)
    return {"booking": flow, "pending": None, **update}


def _bare_name(state: ConversationState) -> dict[str, str]:
    """The answer to "what name?" that is only a name ("Ana Pop"), as the name slot."""
    previous, inbound = state.get("reply"), state.get("inbound")
    text = (inbound["text"] if inbound else "").strip()
    if previous and previous["key"] == "ask_name" and NAME_ONLY.fullmatch(text):
        return {"name": " ".join(word.capitalize() for word in text.split())}
    return {}


def _with_slots(flow: BookingFlow, slots: Slots) -> BookingFlow:
    """`flow` with what this message named (slot values are JSON scalars)."""
    named = BookingFlow(**flow)
    if "service" in slots:
        named["service"] = str(slots["service"])
    if "date" in slots:
        named["date"] = str(slots["date"])
    if "time" in slots:
        named["time"] = str(slots["time"])
    if "nights" in slots:
        named["nights"] = int(slots["nights"])
    if "name" in slots:
        named["name"] = str(slots["name"])
    if "part_of_day" in slots:
        named["part_of_day"] = str(slots["part_of_day"])
    if "date_range" in slots and "date" not in slots:
        # A weekend asked about: from its first day, for its nights when the stay has none.
        first, last = (dt.date.fromisoformat(day) for day in str(slots["date_range"]).split("/"))
        named["date"] = first.isoformat()
        named.setdefault("nights", (last - first).days or 1)
    return named


async def _inform(intent: Intent, slots: Slots, locale: Locale,
                  ctx: TurnContext) -> ConversationState:
    catalogue = ctx.catalogue
    if intent == "greeting":
        return _reply("greeting", business=ctx.tenant.display_name or ctx.tenant.slug)
    if intent == "hours":
        return _hours(slots, locale, ctx)
    if intent == "prices":
        service = catalogue.service_named(str(slots["service"])) if "service" in slots else None
        if service is not None:
            return _reply("price_of", service=catalogue.said(service, locale),
                          price=say_price(service.price, service.currency))
        if "unoffered" in slots:  # honest: not what was asked for, and what there is
            return _reply("not_offered", asked=str(slots["unoffered"]),
                          services=say_list(catalogue.said_all(locale), locale))
        return _reply("prices", prices=price_list(catalogue, locale))
    if intent == "services":
        if "asked_for" in slots:  # "faceti albire?": not what there is, and what there is
            return _reply("not_listed", asked=str(slots["asked_for"]),
                          services=say_list(catalogue.said_all(locale), locale))
        return _reply("services", services=say_list(catalogue.said_all(locale), locale))
    if intent == "handoff":
        await ctx.repository.hand_off()
        return _reply("handoff")
    if intent == "thanks":
        return _reply("thanks")
    return _reply("unknown")


def _hours(slots: Slots, locale: Locale, ctx: TurnContext) -> ConversationState:
    """The hours of the day asked about ("mâine", "sâmbătă"), or the whole week's."""
    if "date" not in slots:
        return _reply("hours", hours=opening_hours(ctx.catalogue, locale))
    day = dt.date.fromisoformat(str(slots["date"]))
    span = hours_on(ctx.catalogue, day)
    if span is None:
        return _reply("closed_on", date=say_date(day, locale),
                      hours=opening_hours(ctx.catalogue, locale))
    opens, closes = span
    return _reply("hours_on", date=say_date(day, locale), opens=f"{opens:%H:%M}",
                  closes=f"{closes:%H:%M}")


def _noun(ctx: TurnContext, locale: Locale) -> str:
    return ctx.business.booking_noun[locale]


async def _plan_booking(flow: BookingFlow, locale: Locale,
                        ctx: TurnContext) -> ConversationState:
    service = ctx.catalogue.service_named(flow.get("service") or "")
    if service is None:
        return _reply("ask_service",
                      services=say_list(ctx.catalogue.said_all(locale), locale))
    if "date" not in flow:
        return _reply("ask_check_in" if service.kind == "night" else "ask_date",
                      service=ctx.catalogue.said(service, locale))
    day = dt.date.fromisoformat(flow["date"])
    if service.kind == "night":
        slot = await _room(flow, service, day, locale, ctx)
    else:
        slot = await _appointment(flow, service, day, locale, ctx)
    if not isinstance(slot, Slot):
        return slot
    if await ctx.repository.customer() is None and not flow.get("name"):
        return _reply("ask_name", noun=_noun(ctx, locale))
    return _propose("book", service, slot, flow, locale, ctx)


async def _room(flow: BookingFlow, service: Service, day: dt.date, locale: Locale,
                ctx: TurnContext, moving: Booking | None = None) -> Slot | ConversationState:
    """A room free for the stay; when a stay is moved, its own room if that is free."""
    nights = int(flow.get("nights") or 1)
    flow["nights"] = nights
    rooms = await ctx.repository.free_rooms(service, day, nights, moving.id if moving else None)
    if not rooms:
        return _reply("no_room", service=ctx.catalogue.said(service, locale), nights=nights,
                      date=say_date(day, locale))
    return _own_first(rooms, moving)[0]


async def _appointment(flow: BookingFlow, service: Service, day: dt.date, locale: Locale,
                       ctx: TurnContext,
                       moving: Booking | None = None) -> Slot | ConversationState:
    slots = await ctx.repository.free_slots(service, day, moving.id if moving else None)
    if not slots:
        flow.pop("date", None)
        flow.pop("time", None)
        return _reply("day_full", service=ctx.catalogue.said(service, locale),
                      date=say_date(day, locale))
    local = [(slot.start.astimezone(ctx.tz), slot) for slot in slots]
    if part := flow.get("part_of_day"):
        # Only the part of the day asked for; when it has nothing free, the customer is told
        # so, with the times free in the rest of the day.
        in_part = [(start, slot) for start, slot in local if in_part_of_day(start, part)]
        if not in_part and "time" not in flow:
            flow.pop("part_of_day", None)
            return _reply("part_full", service=ctx.catalogue.said(service, locale),
                          date=say_date(day, locale), part=say_part_of_day(part, locale),
                          times=say_list(sorted({f"{start:%H:%M}" for start, _ in local})
                                         [:TIMES_OFFERED], locale))
        local = in_part or local
    free_times = sorted({f"{start:%H:%M}" for start, _ in local})
    times = say_list(free_times[:TIMES_OFFERED], locale)
    if "time" not in flow and len(free_times) == 1:
        flow["time"] = free_times[0]  # a class that day: its one time, nothing to ask
    if "time" not in flow:
        return _reply("ask_time", service=ctx.catalogue.said(service, locale),
                      date=say_date(day, locale), times=times)
    wanted = dt.time.fromisoformat(flow["time"])
    chosen = _own_first([slot for start, slot in local if start.time() == wanted], moving)
    if not chosen:
        flow.pop("time", None)
        return _reply("time_taken", time=f"{wanted:%H:%M}", date=say_date(day, locale),
                      times=times)
    return chosen[0]


def in_part_of_day(start: dt.datetime, part: str) -> bool:
    """Whether `start` (in the tenant's time) is in the part of the day (morning, afternoon,
    evening); any time is in a part not known."""
    bounds = PARTS_OF_DAY.get(part)
    return bounds is None or bounds[0] <= start.time() < bounds[1]


def _own_first(slots: list[Slot], moving: Booking | None) -> list[Slot]:
    """`slots`, those on the moved booking's own room or staff member first (a customer
    moving an appointment keeps their dentist when they can)."""
    if moving is None:
        return slots
    return sorted(slots, key=lambda slot: slot.resource_id != moving.resource_id)


def _propose(action: ChangeAction, service: Service, slot: Slot, flow: BookingFlow,
             locale: Locale, ctx: TurnContext, moving: Booking | None = None,
             old: str = "") -> ConversationState:
    resource = ctx.catalogue.resource(slot.resource_id)
    start = slot.start.astimezone(ctx.tz)
    stay = service.kind == "night"
    nights = int(flow.get("nights") or 1)
    params: Params = {
        "noun": _noun(ctx, locale), "service": ctx.catalogue.said(service, locale),
        "when": say_date(start.date(), locale) if stay else say_when(start, locale),
        "resource": resource.name if resource else "", "name": flow.get("name") or "",
        "nights": nights}
    if moving is not None:
        params |= {"old": old, "booking_id": str(moving.id)}
    key = {"book": "propose_stay" if stay else "propose_book",
           "reschedule": "propose_move_stay" if stay else "propose_reschedule"}[action]
    pending = PendingChange(
        action=action, call_id=f"confirm-{ctx.stable_id('call')}", params=params,
        booking_id=str(moving.id) if moving else None, service_id=str(service.id),
        resource_id=str(slot.resource_id), start=slot.start.isoformat(), nights=nights,
        name=flow.get("name"))
    return {**_reply(key, **params), "pending": pending}


async def _booking_to_change(flow: BookingFlow, locale: Locale, ctx: TurnContext,
                             by_day: bool) -> Booking | ConversationState:
    """The customer's booking the change is about: the next one of the service the customer
    named ("anulez yoga") and, `by_day`, on the day named ("anulati programarea de joi");
    else their next booking. The reply that they have none when they have none."""
    upcoming = await ctx.repository.upcoming_bookings()
    if not upcoming:
        return _reply("no_booking", noun=_noun(ctx, locale),
                      noun_plain=_noun(ctx, locale).removesuffix("a"))
    service = ctx.catalogue.service_named(flow.get("service") or "")
    day = flow.get("date") if by_day else None
    named = [booking for booking in upcoming
             if (service is None or booking.service_id == service.id)
             and (day is None or booking.start.astimezone(ctx.tz).date().isoformat() == day)]
    return (named or upcoming)[0]


async def _plan_cancel(flow: BookingFlow, locale: Locale, ctx: TurnContext) -> ConversationState:
    booking = await _booking_to_change(flow, locale, ctx, by_day=True)
    if not isinstance(booking, Booking):
        return booking
    service = ctx.catalogue.service(booking.service_id)
    said = ctx.catalogue.said(service, locale) if service else ""
    params: Params = {"noun": _noun(ctx, locale), "service": said,
                      "when": say_when(booking.start.astimezone(ctx.tz), locale)}
    pending = PendingChange(
        action="cancel", call_id=f"confirm-{ctx.stable_id('call')}", params=params,
        booking_id=str(booking.id), service_id=str(booking.service_id),
        resource_id=str(booking.resource_id), start=booking.start.isoformat(),
        nights=_nights(booking, ctx) if service and service.kind == "night" else 1, name=None)
    return {**_reply("propose_cancel", **params), "pending": pending}


def _nights(booking: Booking, ctx: TurnContext) -> int:
    return (booking.end.astimezone(ctx.tz).date() - booking.start.astimezone(ctx.tz).date()).days


async def _plan_reschedule(flow: BookingFlow, locale: Locale,
                           ctx: TurnContext) -> ConversationState:
    # The day named is the new one ("mutati-ma pe vineri"): the booking is found by service.
    booking = await _booking_to_change(flow, locale, ctx, by_day=False)
    if not isinstance(booking, Booking):
        return booking
    service = ctx.catalogue.service(booking.service_id)
    assert service is not None
    old_start = booking.start.astimezone(ctx.tz)
    stay = service.kind == "night"
    old = say_date(old_start.date(), locale) if stay else say_when(old_start, locale)
    if "date" not in flow or ("time" not in flow and not stay):
        return _reply("ask_new_check_in" if stay else "ask_new_time", noun=_noun(ctx, locale),
                      service=ctx.catalogue.said(service, locale), when=old)
    day = dt.date.fromisoformat(flow["date"])
    if stay:
        # A moved stay keeps its length unless the customer names another.
        flow.setdefault("nights", _nights(booking, ctx))
        slot = await _room(flow, service, day, locale, ctx, moving=booking)
    else:
        slot = await _appointment(flow, service, day, locale, ctx, moving=booking)
    if not isinstance(slot, Slot):
        return slot
    return _propose("reschedule", service, slot, flow, locale, ctx, moving=booking, old=old)
