"""The slot picker: a web chat's reply that offers free times comes with a `choose_slot`
function call listing exactly those times, and the page's pick is checked against what was
offered before it continues the conversation as if the customer had typed that time."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from langchain_core.messages import BaseMessage, ToolMessage
from pydantic import BaseModel, ValidationError

from simptu.runtime.agent.providers.base import Understanding
from simptu.runtime.agent.state import (
    BookingFlow,
    OfferedSlot,
    OfferedSlots,
    Reply,
    TurnContext,
)
from simptu.runtime.agent.templates import say_when
from simptu.runtime.core.language import Locale

CHOOSE_SLOT_FUNCTION = "choose_slot"
# The replies that name free times of one day for the customer to choose from.
OFFERING_REPLIES = {"ask_time", "time_taken"}
CLOCK_TIME = re.compile(r"\b\d{2}:\d{2}\b")


class PickedSlot(BaseModel):
    start: dt.datetime


class SlotPick(BaseModel):
    """The page's `function_result` to `choose_slot`: `{"slot": {"start": ..., ...}}`."""

    slot: PickedSlot


def offer(reply: Reply, flow: BookingFlow, locale: Locale,
          ctx: TurnContext) -> OfferedSlots | None:
    """The slots `reply` names, when it offers times of the day `flow` is booking (the times
    are read from the reply's own words, so the picker shows what the customer reads)."""
    if reply["key"] not in OFFERING_REPLIES or "date" not in flow:
        return None
    day = flow["date"]
    times = CLOCK_TIME.findall(str(reply["params"].get("times", "")))
    return _offered([(day, said) for said in times], locale, ctx)


def offer_found(messages: Iterable[BaseMessage], answer: str, locale: Locale,
                ctx: TurnContext) -> OfferedSlots | None:
    """A hosted model's answer: the free times its `find_free_times` calls found this turn
    that the answer names, in the answer's order."""
    found: dict[str, str] = {}  # time -> the day it is free on
    for message in messages:
        if not (isinstance(message, ToolMessage) and message.name == "find_free_times"
                and message.status == "success"):
            continue
        try:
            result = json.loads(message.text)
        except ValueError:
            continue
        for said in [*result.get("free_times", []), *result.get("free_at_other_times", [])]:
            found.setdefault(said, result["day"])
    named = dict.fromkeys(said for said in CLOCK_TIME.findall(answer) if said in found)
    return _offered([(found[said], said) for said in named], locale, ctx)


def _offered(times: list[tuple[str, str]], locale: Locale,
             ctx: TurnContext) -> OfferedSlots | None:
    """The offer of (ISO day, HH:MM) `times`; None when there are none."""
    slots = []
    for day, said in times:
        start = dt.datetime.combine(dt.date.fromisoformat(day), dt.time.fromisoformat(said),
                                    tzinfo=ctx.tz)
        slots.append(OfferedSlot(start=start.isoformat(), time=said,
                                 label=say_when(start, locale)))
    if not slots:
        return None
    return OfferedSlots(call_id=f"slots-{ctx.stable_id('slots')}", slots=slots)


def choose_slot_call(offered: OfferedSlots) -> dict[str, Any]:
    """The function call the page is sent (as the confirm interrupt's value is)."""
    return {"call_id": offered["call_id"], "name": CHOOSE_SLOT_FUNCTION,
            "arguments": {"slots": [dict(slot) for slot in offered["slots"]]}}


def picked_understanding(pick: OfferedSlot, flow: BookingFlow,
                         ctx: TurnContext) -> Understanding:
    """What a typed time would have been understood as: the picked day and time, for the
    booking (or the move) under way."""
    start = dt.datetime.fromisoformat(pick["start"]).astimezone(ctx.tz)
    return Understanding(intent=flow.get("action") or "book",
                         slots={"date": start.date().isoformat(), "time": pick["time"]})


def picked(offered: Mapping[str, Any] | None, call_id: str,
           result: Mapping[str, Any]) -> OfferedSlot | None:
    """The offered slot the page picked, or None: another call's result (stale), a result
    that is no pick (malformed) or a slot that was not offered."""
    if not offered or offered.get("call_id") != call_id:
        return None
    try:
        pick = SlotPick.model_validate(result)
    except ValidationError:
        return None
    if pick.slot.start.tzinfo is None:
        return None
    for slot in offered.get("slots") or []:
        if dt.datetime.fromisoformat(slot["start"]) == pick.slot.start:
            return OfferedSlot(start=slot["start"], time=slot["time"], label=slot["label"])
    return None
