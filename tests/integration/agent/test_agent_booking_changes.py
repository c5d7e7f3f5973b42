"""Changing a booking in conversation on the local model: a hotel stay moved to another
check-in keeps its nights and its room (even when the new stay overlaps the old one), an
appointment moved by half an hour keeps its dentist (not blocked by itself), and a class is
cancelled; each only after the page confirms."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from simptu.runtime.agent.templates import MONTH_NAMES
from tests.integration.agent.conftest import TIMEZONE, AgentTenant, next_weekday

pytestmark = pytest.mark.usefixtures("agent_worker")
ZONE = ZoneInfo(TIMEZONE)


def in_ten_days(plus: int = 0) -> dt.date:
    return dt.datetime.now(ZONE).date() + dt.timedelta(days=10 + plus)


def ro_date(day: dt.date) -> str:
    return f"{day.day} {MONTH_NAMES['ro'][day.month - 1]}"


def en_date(day: dt.date) -> str:
    return f"{MONTH_NAMES['en'][day.month - 1]} {day.day}"


async def agree(conversation: Any, request: str) -> dict[str, Any]:
    """Say `request`, expect a proposal, confirm it; the confirmation's text and call."""
    await conversation.say(request)
    proposal = await conversation.answer()
    assert proposal.call is not None, proposal.text
    await conversation.confirm(proposal.call)
    done = await conversation.answer()
    return {"proposal": proposal.text, "done": done.text}


def local_span(booking: asyncpg.Record) -> tuple[dt.date, int]:
    """A stay's check-in date and its number of nights, in the hotel's zone."""
    check_in = booking["start_at"].astimezone(ZONE).date()
    return check_in, (booking["end_at"].astimezone(ZONE).date() - check_in).days


async def test_a_stay_moved_a_day_later_keeps_its_nights_and_its_suite(
        agent_tenants: dict[str, AgentTenant], chat: Any) -> None:
    """The hotel has one family suite: the moved stay overlaps the old one in that suite."""
    conversation = await chat(agent_tenants["hotel"], "en")
    check_in = in_ten_days()
    await agree(conversation, f"I'd like to reserve the family suite for 2 nights from "
                              f"{en_date(check_in)}, my name is Paul Weber")
    [booked] = await conversation.bookings()

    moved = await agree(conversation,
                        f"Can I move my reservation to {en_date(check_in + dt.timedelta(1))}?")

    assert "2 night(s)" in moved["proposal"]
    assert "Suite 201" in moved["proposal"]
    assert "now on" in moved["done"]
    [booking] = await conversation.bookings()
    assert booking["id"] == booked["id"]
    assert booking["status"] == "booked"
    assert booking["resource_id"] == booked["resource_id"]
    assert local_span(booking) == (check_in + dt.timedelta(1), 2)


async def test_a_romanian_guest_moves_a_stay_and_keeps_its_three_nights(
        agent_tenants: dict[str, AgentTenant], chat: Any) -> None:
    conversation = await chat(agent_tenants["hotel"])
    check_in = in_ten_days(3)
    await agree(conversation, f"Aș dori o cameră dublă pentru 3 nopți de pe {ro_date(check_in)}, "
                              f"mă numesc Radu Ionescu")

    moved = await agree(conversation, f"Vreau să mut rezervarea pe "
                                      f"{ro_date(check_in + dt.timedelta(2))}")

    assert "3 nopți" in moved["proposal"]
    assert "Gata" in moved["done"]
    [booking] = await conversation.bookings()
    assert local_span(booking) == (check_in + dt.timedelta(2), 3)


async def test_a_stay_moved_with_other_nights_takes_the_nights_named(
        agent_tenants: dict[str, AgentTenant], chat: Any) -> None:
    conversation = await chat(agent_tenants["hotel"], "en")
    check_in = in_ten_days(6)
    await agree(conversation, f"I'd like to reserve a double room for 2 nights from "
                              f"{en_date(check_in)}, my name is Ana Weber")

    await agree(conversation, f"Please change the dates to {en_date(check_in)} for 4 nights")

    [booking] = await conversation.bookings()
    assert local_span(booking) == (check_in, 4)


async def test_an_appointment_moved_by_half_an_hour_is_not_blocked_by_itself(
        agent_tenants: dict[str, AgentTenant], chat: Any) -> None:
    conversation = await chat(agent_tenants["dental-clinic"], "en")
    wednesday = next_weekday(3, after=in_ten_days())
    await agree(conversation, f"I would like to book a filling on {en_date(wednesday)} at 11:30, "
                              f"my name is John Smith")
    [booked] = await conversation.bookings()

    moved = await agree(conversation, f"Can I reschedule to {en_date(wednesday)} at 12:00?")

    assert "from" in moved["proposal"]
    [booking] = await conversation.bookings()
    start = booking["start_at"].astimezone(ZONE)
    assert (start.date(), start.strftime("%H:%M")) == (wednesday, "12:00")
    assert booking["resource_id"] == booked["resource_id"]  # the same dentist


async def test_a_class_is_cancelled_once_the_page_confirms(
        agent_tenants: dict[str, AgentTenant], chat: Any) -> None:
    conversation = await chat(agent_tenants["gym"])
    await agree(conversation, "Vreau să mă înscriu la yoga miercuri la 18, mă numesc Ioana")

    await conversation.say("Vreau să anulez")
    proposal = await conversation.answer()
    assert proposal.call is not None
    [still_booked] = await conversation.bookings()
    assert still_booked["status"] == "booked"
    await conversation.confirm(proposal.call)
    done = await conversation.answer()

    assert "anulat" in done.text
    [booking] = await conversation.bookings()
    assert booking["status"] == "cancelled"
