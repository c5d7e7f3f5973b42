"""The private Kafka paused with SIGSTOP longer than a producer waits, then continued, under
load (tests/faults/kafka_pause.py): the hub and the agent say they are not ready while it
hangs and ready once it continues, and the ledger holds (every accepted message answered
once, stored once; no client saw a part twice or a gap; refusals retryable)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from simptu.devstack.envfile import StackEnv

from .conftest import CONVERSATIONS
from .data_services import DataPlatform, private_data_platform
from .kafka_pause import kafka_paused
from .load import Load
from .runtimes import loaded

RETRYABLE = {"unavailable", "timeout"}  # the hub's answer, or the page's push timing out


@pytest.fixture(scope="module")
async def paused_platform(stack: StackEnv) -> AsyncIterator[DataPlatform]:
    async with private_data_platform(stack) as made:
        yield made


@pytest.fixture
async def paused_load(paused_platform: DataPlatform) -> AsyncIterator[Load]:
    await paused_platform.ensure_running()
    async with loaded(paused_platform.platform, paused_platform.db, CONVERSATIONS) as made:
        yield made


async def test_a_hung_kafka_is_waited_out_and_nothing_is_lost_or_shown_twice(
        paused_platform: DataPlatform, paused_load: Load) -> None:
    outcome = await kafka_paused(paused_platform.platform, paused_load)

    assert outcome.ledger.problems == []
    assert outcome.ledger.accepted == outcome.ledger.answered == len(paused_load.sent)
    assert set(outcome.ledger.refusals) <= RETRYABLE, outcome.ledger.refusals
