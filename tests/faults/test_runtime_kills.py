"""Faults while the load runs, on a private platform (tests/faults/runtimes.py): each runtime
on a message's path killed with SIGKILL and started again, one of two hub replicas and one of
two agent workers killed, and the Redis of the hub and API killed and started again. After
each, the ledger holds: every accepted message answered once, stored once, every booking
requested once made once (the agent killed mid-booking), and no client saw a part twice or a
gap after resuming."""

from __future__ import annotations

import pytest

from .load import Load
from .runtimes import PrivatePlatform
from .scenarios import SCENARIOS


@pytest.mark.parametrize("fault", sorted(SCENARIOS))
async def test_nothing_is_lost_or_answered_twice_when_it_is_killed(
        platform: PrivatePlatform, load: Load, fault: str) -> None:
    outcome = await SCENARIOS[fault](platform, load)

    assert outcome.ledger.problems == []
    assert outcome.ledger.accepted == outcome.ledger.answered == len(load.sent)
    assert outcome.ledger.booked == outcome.ledger.bookings == len(load.bookings)
