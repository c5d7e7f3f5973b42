"""OpenBao sealed and then unsealed, and OpenBao killed and started again (it comes back sealed
and is unsealed as `make up` unseals it), while the load runs on a private platform whose
tenant's transit key lives on an OpenBao of the test's own: the API, the hub and the agent say
they are not ready while it is away and ready once it is back, and the ledger holds (every
accepted message answered once, stored once; no client saw a part twice or a gap)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from simptu.devstack.envfile import StackEnv

from .conftest import CONVERSATIONS
from .load import Load
from .openbao_faults import openbao_killed, openbao_platform, openbao_sealed
from .runtimes import PrivatePlatform, loaded
from .scenarios import Scenario


@pytest.fixture(scope="module")
async def bao_platform(stack: StackEnv) -> AsyncIterator[PrivatePlatform]:
    async with openbao_platform(stack) as made:
        yield made


@pytest.fixture
async def bao_load(bao_platform: PrivatePlatform, db: asyncpg.Pool) -> AsyncIterator[Load]:
    """As conftest's `load`, on the platform of the private OpenBao."""
    if not bao_platform["openbao"].running:
        await bao_platform["openbao"].start()
    await bao_platform.ensure_running()
    async with loaded(bao_platform, db, CONVERSATIONS) as made:
        yield made


@pytest.mark.parametrize("fault", [openbao_sealed, openbao_killed], ids=["sealed", "killed"])
async def test_nothing_is_lost_while_openbao_is_away(
        bao_platform: PrivatePlatform, bao_load: Load, fault: Scenario) -> None:
    outcome = await fault(bao_platform, bao_load)

    assert outcome.ledger.problems == []
    assert outcome.ledger.accepted == outcome.ledger.answered == len(bao_load.sent)
