"""The slot picker with the agent on the local model: a web chat's reply that offers free times
comes with a `choose_slot` call listing exactly those times; the page's pick continues the
booking as if the customer had typed that time (the proposal, then the yes, as ever), and a
pick of nothing offered gets a "nothing changed" reply and changes nothing. Each test books on
a random far-off weekday, so it meets no other test's bookings."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from simptu.runtime.agent.templates import MONTH_NAMES
from simptu.runtime.core.chat import conversation as contract
from simptu.runtime.core.events import CloudEvent
from simptu.runtime.core.language import Locale
from tests.integration.agent.conftest import TIMEZONE, AgentTenant, Answer, Chat

pytestmark = pytest.mark.usefixtures("agent_worker")

HUB_SOURCE = "/simptu/ws"
CLOCK = re.compile(r"\b\d{2}:\d{2}\b")
REQUESTS = {"ro": "Aș dori o programare pentru detartraj pe {day} {month}, numele meu este "
                  "Ana Pop",
            "en": "I would like to book a filling on {day} {month}, my name is John Smith"}
NOTHING_CHANGED = {"ro": "Nu am schimbat nimic", "en": "Nothing changed"}


def far_weekday() -> dt.date:
    """A random Monday to Friday two to ten months ahead (the clinic's doctors work then)."""
    today = dt.datetime.now(ZoneInfo(TIMEZONE)).date()
    while True:
        day = today + dt.timedelta(days=60 + secrets.randbelow(241))
        if day.isoweekday() <= 5:
            return day


async def offered(conversation: Chat, locale: Locale, day: dt.date) -> Answer:
    """Ask for a booking on `day` without a time: the reply offering that day's free times."""
    await conversation.say(REQUESTS[locale].format(day=day.day,
                                                   month=MONTH_NAMES[locale][day.month - 1]))
    answer = await conversation.answer()
    assert answer.call is not None, answer.text
    assert answer.call["name"] == "choose_slot", answer
    return answer


async def pick(conversation: Chat, call_id: str, result: dict[str, Any]) -> Answer:
    """The page's `function_result` to `call_id` (as the hub publishes it), and the reply."""
    await conversation.send(CloudEvent(
        source=HUB_SOURCE, type=contract.FUNCTION_RESULT, tenantid=conversation.tenant.slug,
        subject=str(conversation.session_id),
        data=contract.FunctionResult(session_id=conversation.session_id, call_id=call_id,
                                     result=result).model_dump(mode="json")))
    return await conversation.answer()


@pytest.mark.parametrize("locale", ["ro", "en"])
async def test_the_offered_slots_are_the_times_the_reply_names(
        locale: Locale, agent_tenants: dict[str, AgentTenant], chat: Any) -> None:
    conversation = await chat(agent_tenants["dental-clinic"], locale)
    day = far_weekday()
    answer = await offered(conversation, locale, day)

    slots = answer.call["arguments"]["slots"] if answer.call else []
    named = CLOCK.findall(answer.text)
    assert named, answer.text
    assert [slot["time"] for slot in slots] == named
    for slot in slots:
        start = dt.datetime.fromisoformat(slot["start"]).astimezone(ZoneInfo(TIMEZONE))
        assert (start.date(), start.strftime("%H:%M")) == (day, slot["time"])
        assert slot["time"] in slot["label"]
        assert MONTH_NAMES[locale][day.month - 1] in slot["label"]


async def test_a_pick_proposes_that_time_and_the_yes_books_it(
        agent_tenants: dict[str, AgentTenant], chat: Any) -> None:
    conversation = await chat(agent_tenants["dental-clinic"])
    answer = await offered(conversation, "ro", far_weekday())
    assert answer.call is not None
    chosen = answer.call["arguments"]["slots"][-1]  # not simply the first time of the day

    proposal = await pick(conversation, answer.call["call_id"], {"slot": chosen})
    assert proposal.call is not None, proposal.text
    assert proposal.call["name"] == "confirm_booking"
    assert chosen["time"] in proposal.text
    assert "Ana Pop" in proposal.text
    assert await conversation.bookings() == []  # a pick is no yes
    await conversation.confirm(proposal.call)
    done = await conversation.answer()
    assert "confirmată" in done.text
    [booking] = await conversation.bookings()
    assert booking["start_at"] == dt.datetime.fromisoformat(chosen["start"])


async def test_a_pick_of_nothing_offered_changes_nothing(
        agent_tenants: dict[str, AgentTenant], chat: Any) -> None:
    conversation = await chat(agent_tenants["dental-clinic"], "en")
    day = far_weekday()
    answer = await offered(conversation, "en", day)
    assert answer.call is not None
    call_id, slots = answer.call["call_id"], answer.call["arguments"]["slots"]
    night = dt.datetime.combine(day, dt.time(3), ZoneInfo(TIMEZONE)).isoformat()

    bogus: list[tuple[str, dict[str, Any]]] = [
        (call_id, {"slot": {"start": night, "time": "03:00", "label": "3 am"}}),  # not offered
        (call_id, {"slot": "10:00"}),  # malformed
        (call_id, {"confirmed": True}),  # an answer to another kind of call
        ("slots-from-an-older-reply", {"slot": slots[0]}),  # stale
    ]
    for call, result in bogus:
        refused = await pick(conversation, call, result)
        assert NOTHING_CHANGED["en"] in refused.text, (result, refused.text)
        assert refused.call is None
    assert await conversation.bookings() == []

    # The offer still stands: a pick of it is proposed as before.
    proposal = await pick(conversation, call_id, {"slot": slots[0]})
    assert proposal.call is not None, proposal.text
    assert proposal.call["name"] == "confirm_booking"
    assert slots[0]["time"] in proposal.text
