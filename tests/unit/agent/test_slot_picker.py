"""The slot picker's pure part: the slots a reply offers are the times it names, and a pick
counts only when it is one of them, for the call that offered them."""

from __future__ import annotations

import datetime as dt

import pytest
from langchain_core.messages import ToolMessage

from simptu.runtime.agent.slot_picker import (
    CHOOSE_SLOT_FUNCTION,
    choose_slot_call,
    offer,
    offer_found,
    picked,
)
from simptu.runtime.agent.state import BookingFlow, OfferedSlots, Reply
from tests.unit.agent.in_memory import CLINIC, WEDNESDAY, MemoryRepository, local, turn_context

FLOW = BookingFlow(action="book", service="Consultation", date=WEDNESDAY.isoformat())
ASK_TIME = Reply(key="ask_time", params={"service": "consultație", "date": "miercuri, 9 decembrie",
                                         "times": "09:00, 10:30 și 14:00"})


def offered() -> OfferedSlots:
    made = offer(ASK_TIME, FLOW, "ro", turn_context(MemoryRepository(CLINIC)))
    assert made is not None
    return made


def test_the_offered_slots_are_the_times_the_reply_names() -> None:
    slots = offered()["slots"]
    assert [s["time"] for s in slots] == ["09:00", "10:30", "14:00"]
    assert slots[1]["start"] == local(WEDNESDAY, 10, 30).isoformat()
    assert slots[1]["label"] == "miercuri, 9 decembrie la 10:30"
    call = choose_slot_call(offered())
    assert call["name"] == CHOOSE_SLOT_FUNCTION
    assert call["arguments"]["slots"] == slots


@pytest.mark.parametrize("key", ["propose_book", "day_full", "hours"])
def test_a_reply_that_offers_no_times_offers_no_slots(key: str) -> None:
    reply = Reply(key=key, params={"times": "09:00"})
    assert offer(reply, FLOW, "ro", turn_context(MemoryRepository(CLINIC))) is None


def test_a_pick_of_an_offered_slot_is_that_slot_whatever_the_offset_it_is_written_in() -> None:
    slots = offered()
    start = local(WEDNESDAY, 14).isoformat()
    assert picked(slots, slots["call_id"], {"slot": {"start": start}}) == slots["slots"][2]
    in_utc = local(WEDNESDAY, 14).astimezone(dt.UTC).isoformat()
    assert picked(slots, slots["call_id"], {"slot": {"start": in_utc}}) == slots["slots"][2]


@pytest.mark.parametrize("result", [
    {"slot": {"start": "2026-12-09T11:00:00+02:00"}},  # not offered
    {"slot": {"start": "2026-12-09T14:00:00"}},  # no offset: which 14:00?
    {"slot": {"start": "at two"}},
    {"slot": "14:00"},
    {"confirmed": True},
    {},
])
def test_a_pick_of_no_offered_slot_is_none(result: dict[str, object]) -> None:
    slots = offered()
    assert picked(slots, slots["call_id"], result) is None


def test_a_pick_for_another_call_or_when_nothing_is_offered_is_none() -> None:
    slots = offered()
    pick = {"slot": {"start": slots["slots"][0]["start"]}}
    assert picked(slots, "slots-older", pick) is None
    assert picked(None, slots["call_id"], pick) is None


def found(content: str, status: str = "success") -> ToolMessage:
    return ToolMessage(content, tool_call_id="call_1", name="find_free_times", status=status)


def test_a_hosted_models_offer_is_the_found_times_its_answer_names_in_its_order() -> None:
    ctx = turn_context(MemoryRepository(CLINIC))
    day = WEDNESDAY.isoformat()
    messages = [found(f'{{"day": "{day}", "free_times": ["09:00", "10:30", "14:00"]}}'),
                found(f'{{"day": "{day}", "free_times": ["16:00"]}}', status="error"),
                ToolMessage('{"free_times": ["17:00"]}', tool_call_id="call_2", name="search_faq")]
    made = offer_found(messages, "We are free at 14:00 or 09:00 (not 16:00, 17:00 or 12:00).",
                       "en", ctx)
    assert made is not None
    assert [(s["time"], s["start"]) for s in made["slots"]] == [
        ("14:00", local(WEDNESDAY, 14).isoformat()), ("09:00", local(WEDNESDAY, 9).isoformat())]
    assert offer_found(messages, "Which time suits you?", "en", ctx) is None
