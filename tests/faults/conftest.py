"""Fixtures of the fault tests: one private platform (Redis, API, hub, agent worker of a tenant
of its own) for the session, and a load of phoenix.js conversations on it per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from simptu.devstack.envfile import StackEnv

from .load import Load
from .runtimes import PrivatePlatform, loaded, private_platform

CONVERSATIONS = 4


@pytest.fixture(scope="session")
async def platform(stack: StackEnv) -> AsyncIterator[PrivatePlatform]:
    async with private_platform(stack) as made:
        yield made


@pytest.fixture
async def load(platform: PrivatePlatform, db: asyncpg.Pool) -> AsyncIterator[Load]:
    """CONVERSATIONS conversations on the private platform, everything running at the start."""
    await platform.ensure_running()
    async with loaded(platform, db, CONVERSATIONS) as made:
        yield made
