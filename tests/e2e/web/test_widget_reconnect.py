"""The widget loses its hub while a reply streams and finds it again: a hub process of the test's
own (the stack's hub keeps serving everyone else, and keeps writing the resume log every replica
shares) is killed as the reply starts and started again on the same port; the widget reconnects,
rejoins with its last event id and shows the whole reply once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Playwright, WebSocket

from simptu.devstack.envfile import StackEnv
from simptu.devstack.settings import DevstackSettings
from simptu.devstack.toolchain.tools import WEB_TEST_PACKAGES
from tests.e2e.web.conftest import AGENT_REPLY, HOTEL, Visitor
from tests.ports import free_port

# The demo page's origin (allowed), its snippet pointed at the test's own hub.
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Hotel</title></head>
<body><main><h1>Hotel</h1></main>
<script src="{api}/widget/widget.js" data-tenant="{slug}" data-ws="ws://127.0.0.1:{port}/socket"
 async></script></body></html>"""


class OwnHub:
    def __init__(self, stack: StackEnv, log: Path) -> None:
        self.port = free_port()
        self.env = {**os.environ, **stack.values, "SIMPTU_WS_PORT": str(self.port),
                    "SIMPTU_WS_HOST": "127.0.0.1"}
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def spawn(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as log:
            return subprocess.Popen([sys.executable, "-m", "simptu.runtime.ws"], env=self.env,
                                    stdout=log, stderr=log)

    async def start(self) -> None:
        self.process = self.spawn()
        async with httpx.AsyncClient(timeout=5) as http:
            for _ in range(240):
                assert self.process.poll() is None, self.log.read_text()[-3000:]
                try:
                    if (await http.get(f"http://127.0.0.1:{self.port}/readyz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.25)
        raise AssertionError(f"the test's hub did not become ready: {self.log}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(30)


@pytest.fixture
async def browser(playwright: Playwright) -> AsyncIterator[Browser]:
    """This file's browser: the page below is made up by the test (routed, not fetched), so
    Chromium knows no address for it and its Local Network Access checks would refuse the
    hub on loopback; a page really served from loopback (the demo pages) is not refused."""
    WEB_TEST_PACKAGES.ensure(DevstackSettings().tools_cache)
    chromium = await playwright.chromium.launch(
        executable_path="/usr/bin/chromium", headless=True,
        args=["--no-sandbox", "--disable-features=LocalNetworkAccessChecks"])
    yield chromium
    await chromium.close()


@pytest.fixture
async def own_hub(stack: StackEnv, artefacts: Path) -> AsyncIterator[OwnHub]:
    hub = OwnHub(stack, artefacts.parent / "widget-reconnect-hub.log")
    await hub.start()
    yield hub
    if hub.process is not None and hub.process.poll() is None:
        hub.kill()


async def test_the_widget_reconnects_to_a_restarted_hub_and_shows_the_reply_once(
        visitor: Callable[..., Awaitable[Visitor]], own_hub: OwnHub, stack: StackEnv) -> None:
    page = await visitor(HOTEL, locale="en-GB")
    url = f"{stack['SIMPTU_API_URL']}/demo/{HOTEL}/own-hub"
    body = PAGE.format(api=stack["SIMPTU_API_URL"], slug=HOTEL, port=own_hub.port)
    await page.page.route(url, lambda route: route.fulfill(content_type="text/html", body=body))
    await page.page.goto(url)
    await page.open_chat()
    await page.say("Hello!")

    stored = asyncio.Event()  # the hub's ok to the question: stored, not yet answered

    def watch(socket: WebSocket) -> None:
        socket.on("framereceived", lambda frame: stored.set()
                  if "phx_reply" in str(frame) and "message_id" in str(frame) else None)

    page.page.on("websocket", watch)
    await page.page.reload()  # a new socket, watched from its start
    await page.page.get_by_role("status").filter(has_text="Connected").wait_for()
    await page.page.locator("simptu-chat textarea").fill("What time is check-in?")
    await page.page.locator("simptu-chat textarea").press("Enter")
    await asyncio.wait_for(stored.wait(), 60)
    own_hub.kill()  # the reply streams while the hub is down (the stack's hub logs it)
    print("agent bubbles when the hub died:",
          await page.page.locator("simptu-chat .msg.agent").count())
    await page.page.get_by_role("status").filter(has_text="reconnecting").wait_for()
    await own_hub.start()

    await page.page.get_by_role("status").filter(has_text="Connected").wait_for(timeout=60_000)
    whole = page.page.locator(f"simptu-chat {AGENT_REPLY}")
    await whole.nth(1).wait_for(timeout=60_000)
    bubbles = await page.bubbles()
    assert len(bubbles) == 4, bubbles  # hello, its reply, the question, its reply: once each
    assert await page.page.locator("simptu-chat .msg.agent[aria-hidden]").count() == 0
    history = await page.page.evaluate(
        """async ([api, slug]) => {
          const {token, sessionId} = JSON.parse(localStorage.getItem(`simptu-chat:${slug}`));
          const answer = await fetch(`${api}/v1/chat/sessions/${sessionId}/messages`,
                                     {headers: {Authorization: `Bearer ${token}`}});
          return (await answer.json()).items.map(m => m.text);
        }""", [stack["SIMPTU_API_URL"], HOTEL])
    assert [text.split(": ", 1)[1] for text in bubbles] == history
