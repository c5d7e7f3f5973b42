"""The outbox relay killed (SIGKILL) at any moment and started again loses no event, keeps each
key's order, and only ever repeats an event whole, with its id."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from simptu.devstack.envfile import StackEnv
from simptu.runtime.core.events.cloudevents import CloudEvent
from simptu.runtime.core.tenancy import TenantNames

Collect = Callable[..., Awaitable[list[Any]]]
FillOutbox = Callable[..., Awaitable[list[CloudEvent]]]
KeyOrder = Callable[[list[Any]], dict[str | None, list[int]]]
UntilIds = Callable[[int], Callable[[list[Any]], bool]]
OutboxRows = Callable[[TenantNames], Awaitable[int]]
OutboxDrained = Callable[[TenantNames], Awaitable[None]]

EVENTS = 4000
KILL_WHEN_LEFT = (3200, 1800)  # rows still waiting when each relay is killed


async def spawn_relay(stack: StackEnv, log: Path) -> asyncio.subprocess.Process:
    """`python -m simptu.runtime.core.events relay`, as a deployment would run it."""
    env = os.environ | stack.values | {
        "SIMPTU_OUTBOX_BATCH_SIZE": "25", "SIMPTU_OUTBOX_POLL_INTERVAL": "0.5"}
    with log.open("ab") as output:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "simptu.runtime.core.events", "relay",
            env=env, stdout=output, stderr=output)


async def wait_until_left(outbox_rows: OutboxRows, tenant: TenantNames, left: int) -> None:
    for _ in range(6000):
        if await outbox_rows(tenant) <= left:
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"the relay did not get below {left} rows within 60s")


async def test_a_relay_killed_while_publishing_loses_nothing_and_keeps_key_order(
    stack: StackEnv, tenant: TenantNames, tmp_path: Path, fill_outbox: FillOutbox,
    collect: Collect, key_order: KeyOrder, until_ids: UntilIds, outbox_rows: OutboxRows,
    outbox_drained: OutboxDrained,
) -> None:
    keys = [f"session-{n}" for n in range(8)]
    events = await fill_outbox(tenant, EVENTS, keys, per_transaction=200)
    log = tmp_path / "relay.log"
    for left in KILL_WHEN_LEFT:
        relay = await spawn_relay(stack, log)
        await wait_until_left(outbox_rows, tenant, left)
        relay.send_signal(signal.SIGKILL)
        assert await relay.wait() == -signal.SIGKILL
        assert await outbox_rows(tenant) > 0, "killed after it had finished: kill it sooner"
    relay = await spawn_relay(stack, log)
    received = await collect([tenant.topic("events")], until=until_ids(EVENTS))
    await outbox_drained(tenant)
    relay.send_signal(signal.SIGTERM)
    assert await relay.wait() == 0, log.read_text()[-2000:]

    sent = {event.id: event for event in events}
    assert {r.event.id for r in received} == set(sent)  # everything, and nothing else
    assert all(r.event == sent[r.event.id] for r in received)  # a repeat is the same event
    for key, seqs in key_order(received).items():
        assert seqs == sorted(seqs), f"{key}: first deliveries out of order"
        assert len(seqs) == EVENTS // len(keys)
