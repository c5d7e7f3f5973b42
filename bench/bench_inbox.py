"""Staff inbox benchmark in headless Chromium against the running local stack; prints a markdown
table.

    .venv/bin/python bench/bench_inbox.py [--runs N] [--tenant SLUG]

Opens a demo tenant's inbox (`/inbox/<slug>` on the API) in a fresh browser context each run,
signs in as the demo realm's `staff` user on Keycloak's login form, and measures (medians):

- bytes: the inbox's script and stylesheet (the assets the page loaded) gzipped (-9);
- page -> login form: from navigating to the inbox to Keycloak's form shown (the app loads,
  reads the realm's discovery document and redirects with a PKCE challenge);
- sign-in -> live list: from the click on Keycloak's button to the list joined on the hub and
  loaded from the API (the code exchanged for tokens, the socket joined, the sessions read);
- reload signed in: a reload of the inbox until the list is live again (tokens kept in the
  tab's sessionStorage: no Keycloak round trip).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import httpx
from browser_bench import chromium, gzipped, median, runs_and_tenant  # beside this one
from playwright.async_api import Browser, Response

TENANT = "zambet-dental-cluj"
LIVE = "#app[data-state=live]"
# Generous: the benchmark measures, it does not fail on a slow, loaded machine.
WAIT = 60_000


async def one_run(browser: Browser, url: str) -> dict[str, Any]:
    context = await browser.new_context()
    page = await context.new_page()
    assets: set[str] = set()

    def keep(response: Response) -> None:
        # Only the address: the page moves on to Keycloak before a body could be read.
        if "/inbox/assets/" in response.url and response.ok:
            assets.add(response.url)

    page.on("response", keep)
    started = time.perf_counter()
    await page.goto(url)
    await page.locator("#username").wait_for(timeout=WAIT)
    to_login = time.perf_counter() - started
    await page.locator("#username").fill("staff")
    await page.locator("#password").fill("demo")
    clicked = time.perf_counter()
    await page.locator("#kc-login").click()
    await page.locator(LIVE).wait_for(timeout=WAIT)
    to_live = time.perf_counter() - clicked
    reloaded = time.perf_counter()
    await page.reload()
    await page.locator(LIVE).wait_for(timeout=WAIT)
    reload_live = time.perf_counter() - reloaded
    await context.close()
    async with httpx.AsyncClient(timeout=30) as http:
        bodies = [(await http.get(url)).content for url in sorted(assets)]
    return {"bytes": gzipped(bodies), "login": to_login * 1000,
            "live": to_live * 1000, "reload": reload_live * 1000}


async def main(arguments: argparse.Namespace) -> None:
    async with chromium() as (browser, stack):
        url = f"{stack['SIMPTU_API_URL']}/inbox/{arguments.tenant}"
        runs = [await one_run(browser, url) for _ in range(arguments.runs)]
    print(f"Staff inbox on {url}, {arguments.runs} runs in headless Chromium (median)\n")
    print("| measure | value |")
    print("| --- | ---: |")
    print(f"| inbox script and stylesheet (gzip) | {median([r['bytes'] for r in runs])} B |")
    print(f"| page → Keycloak's login form | {median([r['login'] for r in runs])} ms |")
    print(f"| sign-in → live list (code exchange, hub join, API load) | "
          f"{median([r['live'] for r in runs])} ms |")
    print(f"| reload signed in → live list | {median([r['reload'] for r in runs])} ms |")


if __name__ == "__main__":
    asyncio.run(main(runs_and_tenant(__doc__, TENANT, "sign-ins")))
