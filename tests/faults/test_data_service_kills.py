"""Data services killed (SIGKILL) under load and started again the way `make up` starts them:
PostgreSQL, the PgBouncer in front of it, Kafka, each a private instance of the fault
platform's (tests/faults/data_services.py), killed after a reply's first delta reached a
client (Postgres: the answer to a booking's confirmation, the turn that makes the booking).
Afterwards the ledger holds: every accepted message answered once and stored once, every
booking asked for once made once, no client saw a part twice or a gap, the runtimes that need
the service said they were not ready while it was down and ready once it was back (no restart
of theirs), and each message pushed while it was down was either accepted and answered or
refused with the retryable reason `unavailable`, then accepted when pushed again."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from simptu.devstack.envfile import StackEnv

from .data_services import DATA_SCENARIOS, DataPlatform, private_data_platform
from .load import Load
from .runtimes import loaded

CONVERSATIONS = 4
RETRYABLE = {"unavailable"}  # what the hub answers while a service it needs is away


@pytest.fixture(scope="module")
async def data_platform(stack: StackEnv) -> AsyncIterator[DataPlatform]:
    async with private_data_platform(stack) as made:
        yield made


@pytest.fixture
async def data_load(data_platform: DataPlatform) -> AsyncIterator[Load]:
    """CONVERSATIONS conversations on the private data platform, everything running."""
    await data_platform.ensure_running()
    async with loaded(data_platform.platform, data_platform.db, CONVERSATIONS) as made:
        yield made


@pytest.mark.parametrize("fault", sorted(DATA_SCENARIOS))
async def test_nothing_is_lost_or_answered_twice_when_a_data_service_is_killed(
        data_platform: DataPlatform, data_load: Load, fault: str) -> None:
    outcome = await DATA_SCENARIOS[fault](data_platform.platform, data_load)

    assert outcome.ledger.problems == []
    assert outcome.ledger.accepted == outcome.ledger.answered == len(data_load.sent)
    assert outcome.ledger.booked == outcome.ledger.bookings == len(data_load.bookings)
    assert set(outcome.ledger.refusals) <= RETRYABLE, outcome.ledger.refusals
    platform = data_platform.platform
    assert all(platform[name].running for name in ("api", "ws", "agent", "relay"))
