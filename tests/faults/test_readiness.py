"""`/readyz` tells the truth: the hub, the API and the agent answer 503, naming Redis, while
their Redis is down (Kubernetes stops routing to them), for as long as it is down, and 200 once
it is back, with no restart of theirs."""

from __future__ import annotations

import asyncio

import httpx

from .runtimes import PrivatePlatform
from .scenarios import readiness, until_ready_is

RUNTIMES = ["ws", "api", "agent"]
STAYS_DOWN = 12  # seconds Redis stays down, longer than its client's retries of a command


async def test_readyz_is_false_while_redis_is_down_and_true_once_it_is_back(
        platform: PrivatePlatform) -> None:
    await platform.ensure_running()
    await until_ready_is(platform, RUNTIMES, 200)

    platform["redis"].kill()
    await until_ready_is(platform, RUNTIMES, 503)
    async with httpx.AsyncClient(timeout=10) as http:
        hub = (await http.get(platform["ws"].ready_url)).json()
        api = (await http.get(platform["api"].ready_url)).json()
        agent = (await http.get(platform["agent"].ready_url)).json()
    assert hub["checks"]["redis"].startswith("failing"), hub
    assert {name: hub["checks"][name] for name in ("postgres", "kafka", "openbao")} == {
        "postgres": "ok", "kafka": "ok", "openbao": "ok"}, hub
    assert api["detail"].startswith("not ready: redis failing"), api  # problem+json
    assert agent["checks"]["redis"].startswith("failing"), agent
    assert {name: agent["checks"][name] for name in ("postgres", "kafka", "openbao")} == {
        "postgres": "ok", "kafka": "ok", "openbao": "ok"}, agent

    for _ in range(STAYS_DOWN):  # and keeps answering (the hub once froze after ~10 s)
        assert await readiness(platform["ws"].ready_url) == 503
        assert await readiness(platform["agent"].ready_url) == 503
        await asyncio.sleep(1)

    await platform["redis"].start()
    await until_ready_is(platform, RUNTIMES, 200)
    async with httpx.AsyncClient(timeout=10) as http:
        api = (await http.get(platform["api"].ready_url)).json()
    assert api["checks"]["openbao"] == "ok", api  # the API checks OpenBao too
    assert platform["ws"].running  # the same processes: they healed without a restart
    assert platform["api"].running
    assert platform["agent"].running
