"""Fixtures of the fault tests: one private platform (Redis, API, hub, agent worker of a tenant
of its own) for the session, and a load of phoenix.js conversations on it per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

import asyncpg
import pytest

from simptu.devstack.envfile import StackEnv
from tests.integration.agent.conftest import TIMEZONE
from tests.integration.ws.phoenix_driver import PhoenixDriver, node_client_dir

from .load import Load, bookings_of
from .runtimes import WEB_ORIGIN, PrivatePlatform, private_platform

CONVERSATIONS = 4


@pytest.fixture(scope="session")
async def platform(stack: StackEnv) -> AsyncIterator[PrivatePlatform]:
    async with private_platform(stack) as made:
        yield made


@pytest.fixture
async def load(platform: PrivatePlatform, db: asyncpg.Pool) -> AsyncIterator[Load]:
    """CONVERSATIONS conversations on the private platform, everything running at the start."""
    await platform.ensure_running()
    phoenix = await PhoenixDriver.start(node_client_dir())
    try:
        made = Load(phoenix, platform.api_url, platform.ws_url, platform.tenant.slug,
                    WEB_ORIGIN, partial(bookings_of, db, platform.tenant.names, TIMEZONE))
        await made.open(CONVERSATIONS)
        yield made
    finally:
        await phoenix.close()
