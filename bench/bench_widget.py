"""Chat widget benchmark in headless Chromium against the running local stack; prints a markdown
table.

    .venv/bin/python bench/bench_widget.py [--runs N] [--tenant SLUG]

Opens the demo page `make up` serves (`/demo/<slug>` on the API, the widget embedded with one
`<script src>`) in a fresh browser context each run and measures:

- bytes: what the widget's files weigh gzipped (-9) before the visitor opens the chat (goal:
  at most 40 KB) and what opening adds;
- launcher: from the snippet's script arriving (its responseEnd) to the launcher shown (the
  widget's `simptu-launcher-shown` mark), and from the page's start (goal: under 300 ms);
- ready to type: from the click on the launcher to the conversation joined (status
  Connected), which includes importing the chat, the guest token and the hub's join.

Each run's guest session is removed afterwards. Needs Debian's chromium (installed when missing).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from typing import Any

from browser_bench import chromium, gzipped, median, runs_and_tenant  # beside this one
from playwright.async_api import Browser, Response

TENANT = "zambet-dental-cluj"
LAUNCHER_TIMES = """() => {
  const mark = performance.getEntriesByName('simptu-launcher-shown')[0];
  const script = performance.getEntriesByType('resource')
    .find(e => e.name.includes('/widget/widget'));
  return {fromScript: mark.startTime - script.responseEnd, fromPage: mark.startTime};
}"""


async def one_run(browser: Browser, url: str, tenant: str) -> dict[str, Any]:
    context = await browser.new_context(locale="en-GB")
    page = await context.new_page()
    bodies: list[tuple[str, bytes]] = []

    async def keep(response: Response) -> None:
        if "/widget/" in response.url:
            bodies.append((response.url, await response.body()))

    page.on("response", keep)
    await page.goto(url)
    await page.locator("simptu-chat .launcher").wait_for()
    await page.wait_for_load_state("networkidle")
    before = gzipped(body for _, body in bodies)
    loaded = len(bodies)
    times = await page.evaluate(LAUNCHER_TIMES)
    clicked = time.perf_counter()
    await page.locator("simptu-chat .launcher").click()
    await page.get_by_role("status").filter(has_text="Connected").wait_for()
    ready = time.perf_counter() - clicked
    after = gzipped(body for _, body in bodies[loaded:])
    stored = await page.evaluate("t => localStorage.getItem(`simptu-chat:${t}`)", tenant)
    await context.close()
    session = uuid.UUID(json.loads(stored)["sessionId"]) if stored else None
    return {"before": before, "after": after, "from_script": times["fromScript"],
            "from_page": times["fromPage"], "ready": ready * 1000, "session": session}


async def remove_sessions(tenant: str, sessions: list[uuid.UUID]) -> None:
    from simptu.devstack.envfile import StackEnv
    from simptu.devstack.settings import DevstackSettings
    from simptu.runtime.core.database import TenantUnitOfWork, create_pool
    from simptu.runtime.core.settings import CoreSettings
    from simptu.runtime.core.tenancy import TenantNames

    stack = StackEnv.load(DevstackSettings().env_file)
    settings = CoreSettings.model_validate(
        {k.removeprefix("SIMPTU_").lower(): v for k, v in stack.values.items()}
        | {"bao_addr": stack["BAO_ADDR"], "bao_auth": "token", "bao_token": stack["BAO_TOKEN"]})
    pool = await create_pool(settings)
    try:
        async with TenantUnitOfWork(pool, TenantNames(tenant)) as conn:
            await conn.execute("DELETE FROM chat_sessions WHERE id = ANY($1::uuid[])", sessions)
    finally:
        await pool.close()


async def main(arguments: argparse.Namespace) -> None:
    runs: list[dict[str, Any]] = []
    async with chromium() as (browser, stack):
        url = f"{stack['SIMPTU_API_URL']}/demo/{arguments.tenant}"
        try:
            for _ in range(arguments.runs):
                runs.append(await one_run(browser, url, arguments.tenant))
        finally:
            await remove_sessions(arguments.tenant, [r["session"] for r in runs if r["session"]])
    print(f"Chat widget on {url}, {arguments.runs} runs in headless Chromium (median)\n")
    print("| measure | value | goal |")
    print("| --- | ---: | --- |")
    print(f"| widget bytes before open (gzip) | {median([r['before'] for r in runs])} B "
          "| ≤ 40,960 B |")
    print(f"| bytes opening adds (gzip) | {median([r['after'] for r in runs])} B | |")
    print(f"| launcher shown after the script arrived | "
          f"{median([r['from_script'] for r in runs])} ms | < 300 ms |")
    print(f"| launcher shown after the page's start | {median([r['from_page'] for r in runs])} ms"
          " | |")
    print(f"| open → ready to type (import, guest token, join) | "
          f"{median([r['ready'] for r in runs])} ms | |")


if __name__ == "__main__":
    asyncio.run(main(runs_and_tenant(__doc__, TENANT, "page loads")))
