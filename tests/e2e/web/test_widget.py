"""A visitor uses the chat widget on a clinic's page, in headless Chromium, against the whole
stack `make up` runs (API, hub, relay, Kafka, the agent with its local model, Postgres): the page
embeds the widget with one `<script src>` as a clinic's site would."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.registry import TenantRegistry
from tests.e2e.web.conftest import AGENT_REPLY, CLINIC, GYM, HOTEL, AxeViolations, Visitor

OpenVisitor = Callable[..., Awaitable[Visitor]]
# Greeting, request, name; the word the reply to the confirmation says (as tests/e2e's scripts).
SCRIPTS = {
    "ro": ("Bună ziua!", "Aș dori o programare pentru detartraj marți la 10", "Mă numesc Ana Pop",
           "confirmată"),
    "en": ("Hello!", "I would like to book a filling on Wednesday at 11:30",
           "My name is John Smith", "confirmed"),
}
BROWSER_LOCALE = {"ro": "ro-RO", "en": "en-GB"}
# Records every text a streaming reply shows, so a test can see it grow before it is whole.
WATCH_STREAMING = """() => {
  window.__streamed = [];
  const root = document.querySelector('simptu-chat').shadowRoot;
  new MutationObserver(() => {
    for (const node of root.querySelectorAll('.msg.agent[aria-hidden=true]'))
      window.__streamed.push(node.textContent);
  }).observe(root, {subtree: true, childList: true, characterData: true});
}"""


async def booking_of(db: asyncpg.Pool, redis_client: Any, session_id: uuid.UUID
                     ) -> list[asyncpg.Record]:
    tenant = await TenantRegistry(db, redis_client).require_ready(CLINIC)
    async with TenantUnitOfWork(db, tenant.names) as conn:
        return list(await conn.fetch(
            "SELECT b.* FROM bookings b JOIN chat_sessions s ON s.customer_id = b.customer_id "
            "WHERE s.id = $1", session_id))


@pytest.mark.parametrize("locale", ["ro", "en"])
async def test_a_visitor_books_through_the_widget_in_their_language(
        locale: str, visitor: OpenVisitor, db: asyncpg.Pool, redis_client: Any) -> None:
    page = await visitor(locale=BROWSER_LOCALE[locale])
    greeting, request, name, booked = SCRIPTS[locale]
    await page.open_chat()
    await page.page.evaluate(WATCH_STREAMING)

    hello = await page.say(greeting)
    streamed = await page.page.evaluate("window.__streamed")
    assert len(set(streamed)) > 1, streamed  # it grew piece by piece before it was whole
    assert all(hello.startswith(text) for text in streamed), (hello, streamed)
    asked = await page.say(request)
    assert "?" in asked
    await page.say(name)
    card = page.page.locator("simptu-chat [data-call=confirm_booking]")
    await card.wait_for()
    session_id = await page.session_id()
    assert session_id is not None
    assert await booking_of(db, redis_client, session_id) == []  # nothing before the visitor agrees

    await card.get_by_role("button", name="Da, confirm" if locale == "ro" else "Yes, confirm"
                           ).click()
    await page.page.locator(f"simptu-chat {AGENT_REPLY}", has_text=booked).wait_for(
        timeout=60_000)
    [booking] = await booking_of(db, redis_client, session_id)
    assert booking["status"] == "booked"
    assert await card.get_by_role("button").first.is_disabled()


async def test_a_reloaded_page_shows_the_conversation_once(visitor: OpenVisitor) -> None:
    page = await visitor(GYM, locale="en-GB")
    await page.open_chat()
    await page.say("Hello!")
    await page.say("What are your opening hours?")
    before = await page.bubbles()

    await page.page.reload()
    await page.page.locator("simptu-chat .msg").nth(len(before) - 1).wait_for()
    await page.page.get_by_role("status").filter(has_text="Connected").wait_for()
    assert await page.bubbles() == before  # reopened by itself, the history there, nothing twice
    reply = await page.say("Thank you")
    assert reply
    assert len(await page.bubbles()) == len(before) + 2


async def test_a_second_tab_shows_the_same_conversation(visitor: OpenVisitor) -> None:
    page = await visitor(GYM, locale="en-GB")
    await page.open_chat()
    await page.say("Hello!")
    second = await page.page.context.new_page()
    await second.goto(page.url)
    await second.locator("simptu-chat .msg").nth(1).wait_for()
    assert await second.locator("simptu-chat .msg").all_text_contents() == await page.bubbles()


async def test_the_widget_works_with_the_keyboard_alone(visitor: OpenVisitor) -> None:
    page = await visitor(HOTEL, locale="en-GB")
    focused_in_widget = ("() => { const r = document.querySelector('simptu-chat').shadowRoot;"
                         " return r.activeElement && r.activeElement.className"
                         " || r.activeElement && r.activeElement.tagName; }")
    for _ in range(5):  # the demo page has nothing else to focus
        await page.page.keyboard.press("Tab")
        if await page.page.evaluate(focused_in_widget) == "launcher":
            break
    assert await page.page.evaluate(focused_in_widget) == "launcher"
    launcher = page.page.locator("simptu-chat .launcher")
    assert await launcher.get_attribute("aria-label") == "Open the chat"

    await page.page.keyboard.press("Enter")
    await page.page.get_by_role("status").filter(has_text="Connected").wait_for()
    assert await page.page.evaluate(focused_in_widget) == "TEXTAREA"
    await page.page.keyboard.type("Hello!")
    await page.page.keyboard.press("Enter")
    await page.page.locator("simptu-chat .msg.customer", has_text="Hello!").wait_for()
    await page.page.locator(f"simptu-chat {AGENT_REPLY}").first.wait_for(timeout=60_000)

    await page.page.keyboard.press("Escape")
    assert await page.page.locator("simptu-chat .panel").is_hidden()
    assert await page.page.evaluate(focused_in_widget) == "launcher"


async def test_axe_finds_no_wcag_violations_closed_or_open(
        visitor: OpenVisitor, axe_violations: AxeViolations) -> None:
    page = await visitor(HOTEL, locale="ro-RO")
    assert await axe_violations(page.page) == []
    await page.open_chat()
    await page.say("Bună ziua!")
    assert await axe_violations(page.page) == []
    log = page.page.get_by_role("log")
    assert await log.get_attribute("aria-live") == "polite"
    box = await page.page.locator("simptu-chat header button").bounding_box()
    assert box is not None
    assert min(box["width"], box["height"]) >= 24


async def test_a_page_on_a_foreign_origin_cannot_open_the_chat(visitor: OpenVisitor,
                                                                stack: Any) -> None:
    # The same demo page, reached by another name: origin http://localhost:<port>, which no
    # tenant allows.
    api = stack["SIMPTU_API_URL"].replace("127.0.0.1", "localhost")
    page = await visitor(locale="en-GB", api=api)
    async with page.page.expect_response(lambda r: r.url.endswith("/v1/chat/guest")
                                         and r.request.method == "POST") as guest:
        await page.page.locator("simptu-chat .launcher").click()
    assert (await guest.value).status == 403
    await page.page.get_by_role("status").filter(has_text="not available").wait_for()
    assert await page.page.locator("simptu-chat textarea").is_disabled()
    assert await page.session_id() is None


async def test_on_a_phone_the_chat_fills_the_screen_and_the_last_message_stays_in_view(
        visitor: OpenVisitor, artefacts: Path) -> None:
    page = await visitor(HOTEL, locale="ro-RO", viewport={"width": 390, "height": 844},
                         device_scale_factor=3, is_mobile=True, has_touch=True)
    await page.page.screenshot(path=artefacts / "phone-closed.png")
    await page.open_chat()
    for text in ("Bună ziua!", "Ce program aveți?", "Mulțumesc"):
        await page.say(text)
    panel = await page.page.locator("simptu-chat .panel").bounding_box()
    assert panel == {"x": 0, "y": 0, "width": 390, "height": 844}
    assert await page.page.locator("simptu-chat textarea").evaluate(
        "e => getComputedStyle(e).fontSize") == "16px"  # below 16px, iOS zooms on focus
    # The on-screen keyboard takes the lower part of the screen: as far as headless Chromium
    # can show it, the layout viewport shrinks to what is left.
    await page.page.set_viewport_size({"width": 390, "height": 480})
    await page.page.locator("simptu-chat textarea").focus()
    await page.page.screenshot(path=artefacts / "phone-keyboard.png")
    for target in ("simptu-chat textarea", "simptu-chat .msg >> nth=-1"):
        box = await page.page.locator(target).bounding_box()
        assert box is not None, target
        assert 0 <= box["y"] <= box["y"] + box["height"] <= 480, (target, box)
