"""A Redis restart loses every tenant's ACL user (they live in its memory only): the operator's
watch sees the new server process and converges every Ready tenant at once, and leaves them
alone while the same server runs. A Redis of the test's own (the stack's is shared by every
runtime), the stack's registry for the tenants."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from simptu.operator import redis_restarts
from simptu.runtime.core.redis_client import connect_redis
from simptu.runtime.core.registry import ready_slugs
from tests.ports import free_port

FAILSAFE = 60.0  # bounds a wait that should end within a second; never an assertion of speed


class PrivateRedis:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["/usr/bin/redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
             "--dir", str(self.folder), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


async def _until_answering(url: str) -> str:
    client = connect_redis(url)
    try:
        async with asyncio.timeout(FAILSAFE):
            while True:
                run_id = await redis_restarts.run_id(client)
                if run_id is not None:
                    return run_id
                await asyncio.sleep(0.05)
        raise AssertionError("asyncio.timeout raises")
    finally:
        await client.aclose()


async def test_a_redis_restart_converges_every_ready_tenant_once(
        private_redis: PrivateRedis, db: asyncpg.Pool) -> None:
    ready = await ready_slugs(db)
    assert ready, "the stack's demo tenants are Ready"
    first = await _until_answering(private_redis.url)
    converged: list[str] = []
    everyone = asyncio.Event()

    async def converge(slug: str) -> None:
        converged.append(slug)
        if len(converged) == len(ready):
            everyone.set()

    client = connect_redis(private_redis.url)
    watching = asyncio.create_task(redis_restarts.watch(client, db, converge, interval=0.1))
    try:
        await asyncio.sleep(1)  # ten looks at the same server
        assert converged == []
        private_redis.stop()
        private_redis.start()
        assert await _until_answering(private_redis.url) != first
        await asyncio.wait_for(everyone.wait(), FAILSAFE)
        await asyncio.sleep(1)  # ten more looks at the new server: no second round
        assert sorted(converged) == ready
    finally:
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
        await client.aclose()
