"""Keycloak killed (-9) and started again while guest chats run and a staff member's calls go
on, on a Keycloak of the private platform's own (tests/faults/keycloak_faults.py says how).
After it, the ledger holds (every accepted message answered once, stored once; no client saw
a part twice or a gap), and the staff checks held (problems empty): calls with a token
verified before went on, signing in was refused while it was down, a new sign-in and a
staff call with the new token worked after."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from simptu.devstack.envfile import StackEnv

from .conftest import CONVERSATIONS
from .keycloak_faults import KeycloakPlatform, keycloak_killed, keycloak_platform
from .load import Load
from .runtimes import loaded


@pytest.fixture
async def on_own_keycloak(stack: StackEnv,
                          db: asyncpg.Pool) -> AsyncIterator[tuple[KeycloakPlatform, Load]]:
    """The private platform with its realm on a Keycloak of its own, and a load on it."""
    async with (keycloak_platform(stack, db) as made,
                loaded(made.platform, db, CONVERSATIONS) as load):
        yield made, load


async def test_guest_chats_and_verified_staff_go_on_while_keycloak_is_killed_and_restarted(
        on_own_keycloak: tuple[KeycloakPlatform, Load]) -> None:
    made, load = on_own_keycloak
    outcome = await keycloak_killed(made, load)

    assert outcome.ledger.problems == []
    assert outcome.ledger.accepted == outcome.ledger.answered == len(load.sent)
