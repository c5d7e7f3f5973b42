"""One wiring for every process (runtime/core/wiring): `open_core` opens what they share against
the real stack, hands out one of each, and closes all of it, the embedding model's thread too."""

from __future__ import annotations

import pytest

from simptu.runtime.core.settings import CoreSettings
from simptu.runtime.core.wiring import NoProducer, open_core


async def test_the_core_opens_every_shared_resource_and_closes_them(
        core_settings: CoreSettings) -> None:
    async with open_core(core_settings, client_id="simptu-test-wiring") as core:
        assert await core.pool.fetchval("SELECT 1") == 1
        assert await core.redis.ping()
        await core.producer.check_connection()
        assert core.keyring.keystore is core.keystore
        assert core.registry is not None
        assert set(core.parts()) == {"pool", "redis", "keystore", "keyring", "registry",
                                     "embedder", "kafka"}
    assert core.pool.is_closing()
    with pytest.raises(RuntimeError, match="shutdown"):  # the model's thread is gone
        await core.embedder.embed(["after the core closed"])


async def test_a_core_without_a_producer_refuses_to_publish(core_settings: CoreSettings) -> None:
    async with open_core(core_settings, client_id="simptu-test-wiring", publishes=False) as core:
        assert core.kafka is None
        with pytest.raises(NoProducer):
            _ = core.producer
