"""`make up` is idempotent and heals: a second run changes nothing, a killed service comes back."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import redis.asyncio as aioredis

from simptu.devstack.envfile import StackEnv
from simptu.devstack.stack import Stack
from simptu.devstack.toolchain.cache import locked
from simptu.runtime.core.redis_client import connect_redis


def _pids(stack: Stack) -> dict[str, int | None]:
    return {svc.name: stack.process(svc).pid() for svc in stack.services}


def test_a_second_up_restarts_nothing(local_stack: Stack) -> None:
    before = _pids(local_stack)
    assert all(before.values()), f"not everything runs: {before}"
    Stack().up()
    assert _pids(local_stack) == before  # how long it takes is bench material, not a test's


async def test_a_killed_service_is_restarted_by_up_with_its_data(
    local_stack: Stack, stack: StackEnv, unique: str
) -> None:
    client = aioredis.Redis.from_url(stack.redis_url)
    await client.set(f"{unique}:kept", "yes")
    await client.aclose()
    redis_service = next(svc for svc in local_stack.services if svc.name == "redis")
    old_pid = local_stack.process(redis_service).pid()
    assert old_pid is not None
    os.kill(old_pid, signal.SIGKILL)
    for _ in range(200):  # the kernel reaps it within moments
        if local_stack.process(redis_service).pid() is None:
            break
        await asyncio.sleep(0.05)
    assert local_stack.process(redis_service).pid() is None

    await Stack().up_async()

    new_pid = local_stack.process(redis_service).pid()
    assert new_pid is not None
    assert new_pid != old_pid
    client = aioredis.Redis.from_url(stack.redis_url)
    try:
        assert await client.get(f"{unique}:kept") == b"yes"
    finally:
        await client.delete(f"{unique}:kept")
        await client.aclose()


async def test_a_redis_client_survives_a_redis_restart(local_stack: Stack, stack: StackEnv,
                                                       unique: str) -> None:
    client = connect_redis(stack.redis_url)
    try:
        await client.set(f"{unique}:before", "1")
        redis_service = next(svc for svc in local_stack.services if svc.name == "redis")
        pid = local_stack.process(redis_service).pid()
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        await Stack().up_async()
        # The pooled connection died with the server; the command is retried on a new one.
        assert await client.get(f"{unique}:before") == b"1"
    finally:
        await client.delete(f"{unique}:before")
        await client.aclose()


def test_an_up_waits_while_another_up_or_down_of_the_stack_is_under_way(
        local_stack: Stack) -> None:
    before = _pids(local_stack)
    lock = local_stack.ctx.settings.state_dir / "stack.lock"
    command = [sys.executable, "-m", "simptu.devstack", "up"]
    environment = {**os.environ, "SIMPTU_STATE_DIR": str(local_stack.ctx.settings.state_dir)}
    with locked(lock):  # as another `make up` holds it
        second = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, text=True)
        assert second.stdout is not None
        assert second.stdout.readline().strip().startswith("waiting: another `make up`")
    assert second.wait(timeout=120) == 0
    assert _pids(local_stack) == before
