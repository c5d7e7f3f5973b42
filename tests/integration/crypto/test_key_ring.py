"""The key ring asks the transit engine once per tenant, then works from memory only; the
transit client retries what may heal and reports what will not."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import pytest
import redis.asyncio as aioredis

from simptu.devstack.envfile import StackEnv
from simptu.runtime.core.crypto.errors import KeyStoreUnavailable, NoDataKey
from simptu.runtime.core.crypto.keyring import KeyRing
from simptu.runtime.core.crypto.rotation import rotate_data_key
from simptu.runtime.core.crypto.sealing import sealed_key_version
from simptu.runtime.core.crypto.transit import OpenBaoTransit, transit_calls_total
from simptu.runtime.core.tenancy import TenantNames

MakeTenant = Callable[..., Awaitable[TenantNames]]


async def test_after_warm_up_ten_thousand_field_operations_make_no_transit_call(
    ring: KeyRing, make_keyed_tenant: MakeTenant
) -> None:
    tenant = await make_keyed_tenant()
    cipher = ring.cipher(tenant)
    row = uuid.uuid4()
    await cipher.open("customers", "notes", row, await cipher.seal("customers", "notes", row, ""))
    await cipher.blind_index("email", "warm@example.com")
    before = transit_calls_total()
    for i in range(2_500):
        sealed = await cipher.seal("customers", "notes", row, f"note {i}")
        assert await cipher.open_text("customers", "notes", row, sealed) == f"note {i}"
        await cipher.blind_index("email", f"user{i}@example.com")
        await cipher.blind_index("phone", f"+40 700 {i:06d}")
    assert transit_calls_total() - before == 0


async def test_concurrent_first_uses_unwrap_the_key_once(db: asyncpg.Pool,
                                                         keystore: OpenBaoTransit,
                                                         make_keyed_tenant: MakeTenant) -> None:
    tenant = await make_keyed_tenant()
    async with KeyRing(db, keystore) as cold_ring:
        before = transit_calls_total()
        await asyncio.gather(*(cold_ring.cipher(tenant).seal("customers", "name", i, "x")
                               for i in range(50)))
        assert transit_calls_total() - before == 1


async def test_unwrapped_keys_reach_neither_logs_nor_redis(
    db: asyncpg.Pool, keystore: OpenBaoTransit, redis_client: aioredis.Redis,
    make_keyed_tenant: MakeTenant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tenant = await make_keyed_tenant()
    async with KeyRing(db, keystore, redis_client) as fresh_ring:
        await fresh_ring.cipher(tenant).seal("customers", "name", 1, "x")
        await fresh_ring.cipher(tenant).blind_index("phone", "+40 700 000 001")
    async with db.acquire() as conn, conn.transaction():
        await conn.execute(f"SET LOCAL search_path TO {tenant.schema}")
        wrapped = await conn.fetch("SELECT wrapped_key FROM data_keys")
    keys = [await keystore.unwrap(tenant.transit_key, row["wrapped_key"]) for row in wrapped]
    forms = [form for key in keys for form in (key, key.hex().encode())]
    logged = "\n".join(record.getMessage() for record in caplog.records).encode()
    assert not [form for form in forms if form in logged]
    async for name in redis_client.scan_iter(count=1000):
        if await redis_client.type(name) == b"string":
            value = await redis_client.get(name) or b""
            assert not [form for form in forms if form in value], name


async def test_an_unprovisioned_tenant_is_a_typed_error(db: asyncpg.Pool,
                                                        keystore: OpenBaoTransit,
                                                        make_tenant: MakeTenant) -> None:
    tenant = await make_tenant()  # schema and migrations, but no keys
    async with KeyRing(db, keystore) as fresh_ring:
        with pytest.raises(NoDataKey, match="ensure_data_key"):
            await fresh_ring.cipher(tenant).seal("customers", "name", 1, "x")


async def test_an_unreachable_transit_engine_is_retried_then_reported() -> None:
    # Port 9 (discard) on loopback: nothing listens, every connection is refused.
    unreachable = OpenBaoTransit("http://127.0.0.1:9", "no-token", timeout=1, attempts=3,
                                 backoff=0.01)
    before = transit_calls_total()
    with pytest.raises(KeyStoreUnavailable, match="failed 3 times"):
        await unreachable.unwrap("tenant-nobody", "vault:v1:AAAA")
    assert transit_calls_total() - before == 3


async def wait_for(condition: Callable[[], Awaitable[bool]], attempts: int = 200) -> None:
    """Poll `condition` every 50 ms, for 10 s at most."""
    for _ in range(attempts):
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{condition.__name__} never held")


async def test_a_ring_that_lost_its_purge_subscription_forgets_its_keys_and_listens_again(
    db: asyncpg.Pool, keystore: OpenBaoTransit, redis_client: aioredis.Redis, stack: StackEnv,
    make_keyed_tenant: MakeTenant, unique: str
) -> None:
    tenant = await make_keyed_tenant()
    name = f"{unique}-ring"
    own_redis = aioredis.Redis.from_url(stack.redis_url, client_name=name)
    try:
        async with KeyRing(db, keystore, own_redis, ttl=3600) as ring:
            cipher = ring.cipher(tenant)
            await cipher.seal("customers", "notes", 1, "warm")

            async def reloads_keys() -> bool:
                before = transit_calls_total()
                await cipher.seal("customers", "notes", 1, "x")
                return transit_calls_total() > before

            assert not await reloads_keys()
            [subscription] = [c for c in await redis_client.client_list(_type="pubsub")
                              if c["name"] == name]
            await redis_client.client_kill_filter(_id=subscription["id"])
            await wait_for(reloads_keys)  # announcements may have been missed: cache dropped

            async with db.acquire() as conn:
                await rotate_data_key(conn, keystore, tenant, redis_client)

            async def seals_with_the_new_key() -> bool:
                sealed = await cipher.seal("customers", "notes", 1, "x")
                return sealed_key_version(sealed) == 2

            await wait_for(seals_with_the_new_key)  # subscribed again: the rotation was heard
    finally:
        await own_redis.aclose()
