"""What the browser benchmarks (bench_widget.py, bench_inbox.py) share: Debian's Chromium
(installed when missing, never downloaded by Playwright) launched headless, the running local
stack's settings, what a set of responses weighs gzipped, and the median of the runs."""

from __future__ import annotations

import argparse
import gzip
import statistics
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from playwright.async_api import Browser, async_playwright

if TYPE_CHECKING:
    from simptu.devstack.envfile import StackEnv


@asynccontextmanager
async def chromium() -> AsyncIterator[tuple[Browser, StackEnv]]:
    """Headless Chromium, and the stack `make up` runs (its URLs and credentials)."""
    from simptu.devstack.envfile import StackEnv
    from simptu.devstack.settings import DevstackSettings
    from simptu.devstack.toolchain.tools import WEB_TEST_PACKAGES

    settings = DevstackSettings()
    WEB_TEST_PACKAGES.ensure(settings.tools_cache)
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path="/usr/bin/chromium",
                                               args=["--no-sandbox"])
        try:
            yield browser, StackEnv.load(settings.env_file)
        finally:
            await browser.close()


def gzipped(bodies: Iterable[bytes]) -> int:
    """What the bodies weigh compressed with gzip -9, as a server would send them."""
    return sum(len(gzip.compress(body, 9)) for body in bodies)


def median(values: list[float]) -> str:
    return f"{statistics.median(values):.0f}"


def runs_and_tenant(doc: str, default_tenant: str, what: str) -> argparse.Namespace:
    """The options of a browser benchmark: how many runs, on which demo tenant."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help=f"{what} measured (default 10)")
    parser.add_argument("--tenant", default=default_tenant,
                        help="the demo tenant whose page is used")
    return parser.parse_args()
