"""Faults of the services around a message's path while the load runs on the private platform:
the outbox relay killed after Kafka acknowledged a batch and before its rows were deleted, the
operator killed in the middle of another tenant's provisioning, and one conversation's row
lock held outside the platform longer than the hub waits for it (Keycloak killed and started
again: test_keycloak_killed.py). After each, the ledger
holds (every accepted message answered once, stored once; no client saw a part twice or a gap)
and, for the operator, the tenant is Ready with each of its things made once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from kubernetes import client as k8s

from simptu.devstack.envfile import StackEnv
from simptu.devstack.stack import Stack
from tests.integration.operator.conftest import CRDS, Kubectl, Tenants, install
from tests.integration.operator.operator_process import OperatorProcess

from .conftest import CONVERSATIONS
from .load import Load
from .runtimes import PrivatePlatform, loaded
from .service_faults import (
    conversation_locked,
    operator_killed_mid_provisioning,
    relay_killed_mid_batch,
    relay_platform,
)


@pytest.fixture
def tenants(stack: StackEnv, kube: k8s.ApiClient) -> Iterator[Tenants]:
    """Tenants applied with kubectl (the CRD installed as the operator's tests do), deleted
    afterwards (by the stack's operator)."""
    kubectl = Kubectl(stack["SIMPTU_KUBECTL"], stack.kubeconfig)
    install(kubectl, CRDS, "tenants.simptu.io")
    made = Tenants(kubectl, k8s.CustomObjectsApi(kube))
    yield made
    made.delete_all()


@pytest.fixture
async def operator(local_stack: Stack, stack: StackEnv, tenants: Tenants,
                   tmp_path: Path) -> AsyncIterator[OperatorProcess]:
    """An operator of the test's own; stopped (SIGTERM: its peering record withdrawn, the
    stack's operator resumes) before the test's Tenants are deleted."""
    process = OperatorProcess(stack, tmp_path / "operator.log")
    yield process
    await process.stop()


@pytest.fixture
async def on_own_postgres(stack: StackEnv) -> AsyncIterator[tuple[PrivatePlatform, Load,
                                                                   asyncpg.Pool]]:
    """The private platform on a Postgres of its own, a load on it and a pool of it."""
    async with (relay_platform(stack) as (platform, pool),
                loaded(platform, pool, CONVERSATIONS) as load):
        yield platform, load, pool


async def test_the_relay_killed_mid_batch_publishes_it_again_and_nothing_is_answered_twice(
        on_own_postgres: tuple[PrivatePlatform, Load, asyncpg.Pool]) -> None:
    platform, load, pool = on_own_postgres
    outcome = await relay_killed_mid_batch(platform, load, pool)

    assert outcome.ledger.problems == []
    assert outcome.ledger.accepted == outcome.ledger.answered == len(load.sent)
    assert outcome.resent_parts >= len(load.conversations)  # the batch went out twice


async def test_the_operator_killed_mid_provisioning_makes_each_thing_once(
        platform: PrivatePlatform, load: Load, stack: StackEnv, db: asyncpg.Pool,
        tenants: Tenants, operator: OperatorProcess, unique: str) -> None:
    outcome = await operator_killed_mid_provisioning(platform, load, stack, db, tenants,
                                                     operator, f"{unique}-opkill")

    assert outcome.ledger.problems == []
    assert outcome.ledger.accepted == outcome.ledger.answered == len(load.sent)


async def test_a_lock_held_outside_the_platform_is_given_up_and_nothing_is_lost(
        platform: PrivatePlatform, load: Load, db: asyncpg.Pool) -> None:
    outcome = await conversation_locked(platform, load, db)

    assert outcome.ledger.problems == []
    assert outcome.ledger.accepted == outcome.ledger.answered == len(load.sent)

