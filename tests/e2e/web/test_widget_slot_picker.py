"""The slot picker in a real conversation, in headless Chromium against the whole stack: the
agent's reply offering free times comes with a picker of exactly those times; a click brings the
proposal of the time clicked, and the visitor's yes books it, in Postgres. Each run books on a
random far-off weekday of the demo clinic, so it meets no other test's bookings."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from simptu.runtime.agent.templates import MONTH_NAMES
from simptu.runtime.core.language import Locale
from simptu.runtime.core.registry import TenantRegistry
from tests.e2e.web.conftest import AGENT_REPLY, CLINIC, Visitor
from tests.e2e.web.test_widget import BROWSER_LOCALE, booking_of

CLOCK = re.compile(r"\b\d{2}:\d{2}\b")
REQUESTS = {"ro": "Aș dori o programare pentru detartraj pe {day} {month}, numele meu este "
                  "Ana Pop",
            "en": "I would like to book a filling on {day} {month}, my name is John Smith"}
YES = {"ro": "Da, confirm", "en": "Yes, confirm"}
BOOKED = {"ro": "confirmată", "en": "confirmed"}


def far_weekday(tz: ZoneInfo) -> dt.date:
    """A random Monday to Friday two to ten months ahead (the clinic's doctors work then)."""
    today = dt.datetime.now(tz).date()
    while True:
        day = today + dt.timedelta(days=60 + secrets.randbelow(241))
        if day.isoweekday() <= 5:
            return day


async def next_reply(page: Visitor, act: Callable[[], Awaitable[None]]) -> str:
    """Do `act` (a click); the agent's whole reply to it."""
    replies = page.page.locator(f"simptu-chat {AGENT_REPLY}")
    before = await replies.count()
    await act()
    await replies.nth(before).wait_for(timeout=60_000)
    return str(await replies.nth(before).text_content())


@pytest.mark.parametrize("locale", ["ro", "en"])
async def test_a_visitor_picks_an_offered_time_and_books_it(
        locale: Locale, visitor: Callable[..., Awaitable[Visitor]], db: asyncpg.Pool,
        redis_client: Any) -> None:
    tz = ZoneInfo((await TenantRegistry(db, redis_client).require_ready(CLINIC)).timezone)
    day = far_weekday(tz)
    page = await visitor(locale=BROWSER_LOCALE[locale])
    await page.open_chat()

    offer = await page.say(REQUESTS[locale].format(day=day.day,
                                                   month=MONTH_NAMES[locale][day.month - 1]))
    picker = page.page.locator("simptu-chat [data-call=choose_slot]")
    await picker.wait_for()
    times = await picker.get_by_role("button").all_text_contents()
    assert times, offer
    assert times == CLOCK.findall(offer)  # the picker shows the times the reply names
    chosen = times[-1]

    proposal = await next_reply(
        page, lambda: picker.get_by_role("button").filter(has_text=chosen).click())
    assert chosen in proposal
    assert await picker.get_by_role("button").first.is_disabled()
    card = page.page.locator("simptu-chat [data-call=confirm_booking]")
    await card.wait_for()
    session_id = await page.session_id()
    assert session_id is not None
    assert await booking_of(db, redis_client, session_id) == []  # a pick is no yes

    done = await next_reply(page, lambda: card.get_by_role("button", name=YES[locale]).click())
    assert BOOKED[locale] in done
    [booking] = await booking_of(db, redis_client, session_id)
    assert booking["status"] == "booked"
    start = booking["start_at"].astimezone(tz)
    assert (start.date(), start.strftime("%H:%M")) == (day, chosen)
