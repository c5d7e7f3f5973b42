"""Two operator replicas never reconcile at once: Kopf peering pauses the lower priority one
until the higher one is gone, and then it takes over."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from simptu.devstack.envfile import StackEnv
from simptu.devstack.stack import Stack

from .operator_process import OperatorProcess, priority_above_every_earlier_peer


@pytest.fixture
async def replicas(local_stack: Stack, stack: StackEnv, tmp_path: Path,
                   ) -> AsyncIterator[tuple[OperatorProcess, OperatorProcess]]:
    base = priority_above_every_earlier_peer()
    standby = OperatorProcess(stack, tmp_path / "standby.log", base)
    active = OperatorProcess(stack, tmp_path / "active.log", base + 1)
    yield standby, active
    await active.kill()
    await standby.kill()


async def _status(tenants: Any, name: str) -> dict[str, Any]:
    status: dict[str, Any] = (await asyncio.to_thread(tenants.get, name)).get("status") or {}
    return status


async def _wait_until_ready(tenants: Any, name: str, generation: int) -> None:
    for _ in range(240):
        status = await _status(tenants, name)
        if status.get("phase") == "Ready" and status.get("observedGeneration") == generation:
            return
        await asyncio.sleep(0.5)
    pytest.fail(f"{name} did not become Ready at generation {generation}: {status}")


def _tenant(name: str, display_name: str) -> dict[str, Any]:
    return {"apiVersion": "simptu.io/v1alpha1", "kind": "Tenant", "metadata": {"name": name},
            "spec": {"displayName": display_name, "businessType": "gym",
                     "deletionPolicy": "Delete"}}


async def test_only_the_highest_priority_replica_reconciles_and_the_other_takes_over(
    replicas: tuple[OperatorProcess, OperatorProcess], tenants: Any, unique: str
) -> None:
    standby, active = replicas
    await active.start()
    await asyncio.sleep(2)  # its peering record is listed before the standby looks
    await standby.start()
    name = f"{unique}-peers"

    tenants.apply(_tenant(name, "Peers"))
    await _wait_until_ready(tenants, name, generation=1)

    assert await active.reconciles() >= 1
    assert await standby.reconciles() == 0  # paused: not even the demo tenants were resumed

    await active.stop()
    tenants.apply(_tenant(name, "Peers, renamed"))
    await _wait_until_ready(tenants, name, generation=2)

    assert await standby.reconciles() >= 1
