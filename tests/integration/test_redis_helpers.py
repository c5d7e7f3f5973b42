"""Redis helpers: tenant-scoped cache, expiring sessions and an atomic rate limiter."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from pydantic import BaseModel
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from simptu.runtime.core.rate_limit import RateLimiter
from simptu.runtime.core.session_store import SessionStore
from simptu.runtime.core.synced_rate_limit import SyncedRateLimiter
from simptu.runtime.core.tenancy import TenantNames
from simptu.runtime.core.tenant_cache import TenantCache, purge_tenant_keys
from tests.ports import free_port


class Profile(BaseModel):
    name: str
    opening_hours: str


class GuestSession(BaseModel):
    session_id: str
    locale: str


async def test_cache_loads_once_and_keeps_tenants_apart(redis_client: aioredis.Redis,
                                                        unique: str) -> None:
    clinic, gym = TenantNames(f"{unique}-clinic"), TenantNames(f"{unique}-gym")
    loads: list[str] = []

    def loader(tenant: str, hours: str):  # type: ignore[no-untyped-def]
        async def load() -> Profile:
            loads.append(tenant)
            return Profile(name=tenant, opening_hours=hours)
        return load

    clinic_cache, gym_cache = TenantCache(redis_client, clinic), TenantCache(redis_client, gym)
    try:
        first = await clinic_cache.get_or_load("profile", Profile, loader("clinic", "9-17"))
        again = await clinic_cache.get_or_load("profile", Profile, loader("clinic", "changed"))
        other = await gym_cache.get_or_load("profile", Profile, loader("gym", "6-22"))
        assert first == again == Profile(name="clinic", opening_hours="9-17")
        assert other == Profile(name="gym", opening_hours="6-22")
        assert loads == ["clinic", "gym"]
    finally:
        await clinic_cache.invalidate_all()
        await gym_cache.invalidate_all()


async def test_invalidation_makes_the_next_read_load_again(redis_client: aioredis.Redis,
                                                           unique: str) -> None:
    cache = TenantCache(redis_client, TenantNames(unique))
    versions = iter(["v1", "v2", "v3"])

    async def load() -> Profile:
        return Profile(name="clinic", opening_hours=next(versions))

    assert (await cache.get_or_load("profile", Profile, load)).opening_hours == "v1"
    await cache.invalidate("profile")
    assert (await cache.get_or_load("profile", Profile, load)).opening_hours == "v2"
    await cache.get_or_load("services", Profile, load)
    assert await cache.invalidate_all() == 2
    assert await redis_client.exists(cache.key("profile")) == 0


async def test_sessions_expire_and_can_be_revoked(redis_client: aioredis.Redis,
                                                  unique: str) -> None:
    store = SessionStore(redis_client, TenantNames(unique), "guest", GuestSession, ttl=1)
    session_id = await store.create(GuestSession(session_id="s-1", locale="ro"))
    assert await store.get(session_id) == GuestSession(session_id="s-1", locale="ro")
    assert await store.revoke(session_id)
    assert await store.get(session_id) is None
    short_lived = await store.create(GuestSession(session_id="s-2", locale="en"))
    await asyncio.sleep(1.2)
    assert await store.get(short_lived) is None
    assert not await store.touch(short_lived)


async def test_other_tenants_cannot_see_a_session(redis_client: aioredis.Redis,
                                                  unique: str) -> None:
    mine = SessionStore(redis_client, TenantNames(f"{unique}-a"), "guest", GuestSession, ttl=60)
    theirs = SessionStore(redis_client, TenantNames(f"{unique}-b"), "guest", GuestSession, ttl=60)
    session_id = await mine.create(GuestSession(session_id="s-1", locale="ro"))
    try:
        assert await theirs.get(session_id) is None
    finally:
        await mine.revoke(session_id)


async def test_parallel_requests_never_exceed_the_limit(redis_client: aioredis.Redis,
                                                        unique: str) -> None:
    limiter = RateLimiter(redis_client, f"guest-{unique}", limit=10, window=30)
    tenant = TenantNames(unique)
    decisions = await asyncio.gather(*(limiter.hit(tenant, "203.0.113.7") for _ in range(50)))
    assert sum(d.allowed for d in decisions) == 10
    refused = [d for d in decisions if not d.allowed]
    assert all(0 < d.retry_after <= 30 for d in refused)
    # Another client and another tenant have budgets of their own.
    assert (await limiter.hit(tenant, "198.51.100.1")).allowed
    assert (await limiter.hit(TenantNames(f"{unique}-b"), "203.0.113.7")).allowed


async def test_hits_that_arrive_together_share_one_round_trip(
    redis_client: aioredis.Redis, unique: str
) -> None:
    limiter = RateLimiter(redis_client, f"batch-{unique}", limit=30, window=30)
    tenants = [TenantNames(f"{unique}-a"), TenantNames(f"{unique}-b")]
    await limiter.hit(tenants[0], "warm-up")  # loads the script
    before = await _script_calls(redis_client)
    decisions = await asyncio.gather(*(limiter.hit(tenants[n % 2], "203.0.113.9")
                                       for n in range(80)))
    # One call per tenant (a tenant's keys share a hash slot), each hit decided in order.
    assert await _script_calls(redis_client) - before == 2
    for tenant_decisions in (decisions[0::2], decisions[1::2]):
        assert [d.allowed for d in tenant_decisions] == [True] * 30 + [False] * 10
        assert [d.remaining for d in tenant_decisions[:30]] == list(range(29, -1, -1))


async def _script_calls(redis_client: aioredis.Redis) -> int:
    stats = await redis_client.info("commandstats")
    return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))


async def test_a_hit_fails_with_the_error_of_its_round_trip(unique: str) -> None:
    unreachable = _unreachable_redis()
    limiter = RateLimiter(unreachable, f"down-{unique}", limit=5, window=30)
    try:
        with pytest.raises(aioredis.ConnectionError):
            await limiter.hit(TenantNames(unique), "client")
        with pytest.raises(aioredis.ConnectionError):  # and the next one tries again
            await limiter.hit(TenantNames(unique), "client")
    finally:
        await unreachable.aclose()


def _unreachable_redis() -> aioredis.Redis:
    return aioredis.Redis(port=free_port(), socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))


async def test_the_window_slides(redis_client: aioredis.Redis, unique: str) -> None:
    limiter = RateLimiter(redis_client, f"burst-{unique}", limit=2, window=0.5)
    tenant = TenantNames(unique)
    assert [(await limiter.hit(tenant, "c")).allowed for _ in range(3)] == [True, True, False]
    await asyncio.sleep(0.6)
    assert (await limiter.hit(tenant, "c")).allowed


async def test_purging_a_tenant_removes_its_cache_sessions_and_limits_only(
    redis_client: aioredis.Redis, unique: str
) -> None:
    gone, kept = TenantNames(f"{unique}-gone"), TenantNames(f"{unique}-kept")
    for tenant in (gone, kept):
        cache = TenantCache(redis_client, tenant)
        await cache.get_or_load("profile", Profile, _profile)
        store = SessionStore(redis_client, tenant, "guest", GuestSession, ttl=60)
        await store.create(GuestSession(session_id="s", locale="ro"))
        await RateLimiter(redis_client, "guest", limit=5, window=60).hit(tenant, "client")
    assert await purge_tenant_keys(redis_client, gone) == 3
    assert [key async for key in redis_client.scan_iter(match=f"simptu:*:{{{gone.slug}}}:*")] == []
    assert await purge_tenant_keys(redis_client, kept) == 3


async def _profile() -> Profile:
    return Profile(name="Ana Pop", opening_hours="9-17")


async def test_a_synced_limiter_alone_allows_exactly_its_limit(
        redis_client: aioredis.Redis, unique: str) -> None:
    limiter = SyncedRateLimiter(redis_client, f"synced-{unique}", limit=5, window=3600,
                                sync_interval=10)
    try:
        decisions = [await limiter.hit(TenantNames(unique), "c") for _ in range(7)]
        assert [d.allowed for d in decisions] == [True] * 5 + [False] * 2
        assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
        assert all(0 < d.retry_after <= 7200 for d in decisions[5:])
        assert (await limiter.hit(TenantNames(unique), "another client")).allowed
    finally:
        await limiter.aclose()


async def test_synced_limiters_share_their_counts_at_each_sync(
        redis_client: aioredis.Redis, unique: str) -> None:
    """Two replicas: what one allowed counts on the other once both have synced."""
    tenant = TenantNames(unique)
    one, two = (SyncedRateLimiter(redis_client, f"shared-{unique}", limit=10, window=3600,
                                  sync_interval=10) for _ in range(2))
    try:
        assert all([(await one.hit(tenant, "c")).allowed for _ in range(6)])
        await one.sync()
        assert (await two.hit(tenant, "c")).allowed  # not synced yet: it knows only its own
        await two.sync()
        decisions = [await two.hit(tenant, "c") for _ in range(5)]
        assert [d.allowed for d in decisions] == [True] * 3 + [False] * 2  # 6 + 1 + 3 = 10
        await two.sync()
        await one.sync()
        assert not (await one.hit(tenant, "c")).allowed
    finally:
        await one.aclose()
        await two.aclose()


async def test_a_synced_limiter_window_slides(redis_client: aioredis.Redis, unique: str) -> None:
    limiter = SyncedRateLimiter(redis_client, f"slide-{unique}", limit=2, window=0.5,
                                sync_interval=0.05)
    tenant = TenantNames(unique)
    try:
        assert [(await limiter.hit(tenant, "c")).allowed for _ in range(3)] == [
            True, True, False]
        await asyncio.sleep(1.1)  # two windows: nothing of the first is left
        assert (await limiter.hit(tenant, "c")).allowed
    finally:
        await limiter.aclose()


async def test_without_redis_a_synced_limiter_limits_with_its_own_counts(unique: str) -> None:
    unreachable = _unreachable_redis()
    limiter = SyncedRateLimiter(unreachable, f"alone-{unique}", limit=3, window=3600,
                                sync_interval=10)
    try:
        assert [(await limiter.hit(TenantNames(unique), "c")).allowed for _ in range(4)] == [
            True, True, True, False]
        await limiter.sync()  # logged, not raised
        assert not (await limiter.hit(TenantNames(unique), "c")).allowed
    finally:
        await limiter.aclose()
        await unreachable.aclose()
