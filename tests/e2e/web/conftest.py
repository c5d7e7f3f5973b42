"""The widget in a real browser: Debian's headless Chromium (installed with apt-get when missing,
never downloaded by Playwright) driven by Playwright, on the demo pages `make up` serves
(`/demo/<slug>` on the API, whose origin the demo tenants allow). Each visitor's conversation,
and what it booked, is removed afterwards; screenshots are kept under the stack's state folder."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from playwright.async_api import Browser, Page, Playwright, async_playwright

from simptu.devstack.envfile import StackEnv
from simptu.devstack.settings import DevstackSettings
from simptu.devstack.toolchain.tools import WEB_TEST_PACKAGES
from simptu.devstack.toolchain.web import WIDGET_MODULES
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.registry import TenantRegistry

# The demo tenants; tests spread over them, as guest sessions are rate-limited per tenant and
# client address (SIMPTU_API_GUEST_RATE_LIMIT a minute).
CLINIC, GYM, HOTEL = "zambet-dental-cluj", "pulse-fitness-timisoara", "hotel-carpati-brasov"
# Everything the widget shows is in its shadow root; Playwright's CSS locators pierce it.
AGENT_REPLY = ".msg.agent:not([aria-hidden])"


@pytest.fixture(scope="session")
def artefacts() -> Path:
    folder = DevstackSettings().state_dir / "artefacts" / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
async def browser(playwright: Playwright) -> AsyncIterator[Browser]:
    cache = DevstackSettings().tools_cache
    WEB_TEST_PACKAGES.ensure(cache)
    chromium = await playwright.chromium.launch(
        executable_path="/usr/bin/chromium", headless=True,
        args=["--no-sandbox"])  # tests may run as root, where Chromium's sandbox cannot
    yield chromium
    await chromium.close()


# The WCAG 2.2 AA rules axe-core checks.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AxeViolations = Callable[[Page], Awaitable[list[dict[str, Any]]]]


@pytest.fixture(scope="session")
def axe_violations() -> AxeViolations:
    """`await axe_violations(page)`: what axe-core (from the widget's own npm dependencies, the
    lock pins its version) finds on the page, each rule with the elements it names."""
    modules = WIDGET_MODULES.ensure(DevstackSettings().tools_cache)
    source = (modules / "node_modules" / "axe-core" / "axe.min.js").read_text()

    async def violations(page: Page) -> list[dict[str, Any]]:
        await page.add_script_tag(content=source)
        result = await page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
        return [{"id": v["id"], "nodes": [n["target"] for n in v["nodes"]]}
                for v in result["violations"]]

    return violations


class Visitor:
    """One browser context (its own storage) on a demo page."""

    def __init__(self, page: Page, api: str, slug: str) -> None:
        self.page = page
        self.api = api
        self.slug = slug

    @property
    def url(self) -> str:
        return f"{self.api}/demo/{self.slug}"

    async def open_chat(self) -> None:
        await self.page.locator("simptu-chat .launcher").click()
        await self.page.locator("simptu-chat textarea").wait_for()
        await self.page.get_by_role("status").filter(
            has_text="Conectat" if await self.locale() == "ro" else "Connected").wait_for()

    async def locale(self) -> str:
        return str(await self.page.locator("simptu-chat .panel").get_attribute("lang"))

    async def say(self, text: str) -> str:
        """Type and send; the agent's whole reply to it (the next reply shown)."""
        replies = self.page.locator(f"simptu-chat {AGENT_REPLY}")
        before = await replies.count()
        await self.page.locator("simptu-chat textarea").fill(text)
        await self.page.locator("simptu-chat textarea").press("Enter")
        await replies.nth(before).wait_for(timeout=60_000)
        return str(await replies.nth(before).text_content())

    async def bubbles(self) -> list[str]:
        return await self.page.locator("simptu-chat .msg").all_text_contents()

    async def session_id(self) -> uuid.UUID | None:
        stored = await self.page.evaluate(
            "slug => localStorage.getItem(`simptu-chat:${slug}`)", self.slug)
        return uuid.UUID(json.loads(stored)["sessionId"]) if stored else None


@pytest.fixture
async def visitor(browser: Browser, stack: StackEnv, db: asyncpg.Pool,
                  redis_client: aioredis.Redis
                  ) -> AsyncIterator[Callable[..., Awaitable[Visitor]]]:
    """Opens a demo page in a new browser context; the conversations it had, their customers'
    bookings and the sessions are removed afterwards."""
    opened: list[Visitor] = []

    async def open_page(slug: str = CLINIC, *, locale: str = "ro-RO",
                        api: str | None = None, **context: Any) -> Visitor:
        browser_context = await browser.new_context(locale=locale, **context)
        page = await browser_context.new_page()
        visitor = Visitor(page, api or stack["SIMPTU_API_URL"], slug)
        await page.goto(visitor.url)
        opened.append(visitor)
        return visitor

    yield open_page
    for visitor in opened:
        session_id = await visitor.session_id()
        await visitor.page.context.close()
        if session_id is None:
            continue
        tenant = await TenantRegistry(db, redis_client).require_ready(visitor.slug)
        async with TenantUnitOfWork(db, tenant.names) as conn:
            customer = await conn.fetchval("SELECT customer_id FROM chat_sessions WHERE id = $1",
                                           session_id)
            await conn.execute("DELETE FROM bookings WHERE customer_id = $1", customer)
            await conn.execute("DELETE FROM chat_sessions WHERE id = $1", session_id)
