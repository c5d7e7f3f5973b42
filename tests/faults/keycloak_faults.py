"""Keycloak killed (-9) and started again while the load runs, on a Keycloak of the fault
platform's own: made, launched and probed by the stack's own code (devstack/services/
keycloak.py and postgres.py, with a Context of its own folder and ports), its data in a
PostgreSQL cluster of its own (initdb in the same folder, `keycloak` database and role made by
`make up`'s configure). The private tenant's realm is made there the way the operator makes
it, its issuer written to the registry, and the private runtimes use that Keycloak. Killing
it (SIGKILL to its whole process group, as a container is killed) touches nothing the stack or
other tests use.

What it shows: guest chats never touch Keycloak (a guest token is the API's own); a staff
token the API verified before goes on working (its claims and the realm's keys are cached);
signing in fails at once with a refused connection (retryable); an API with no cached keys
answers 503 `issuer-unavailable` with a Retry-After; once Keycloak is started again, signing
in and a staff call with a new token work."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import redis.asyncio as aioredis

from simptu.devstack.demo_tokens import demo_token
from simptu.devstack.envfile import StackEnv
from simptu.devstack.services.base import Context
from simptu.devstack.services.keycloak import Keycloak
from simptu.devstack.services.postgres import Postgres
from simptu.devstack.settings import DevstackSettings
from simptu.operator import keycloak
from simptu.runtime.core.keycloak_admin import KeycloakAdmin
from simptu.runtime.core.oidc import KEY_PREFIX
from simptu.runtime.core.redis_client import connect_redis
from simptu.runtime.core.registry import TenantRegistry, upsert_tenant
from tests.ports import free_port

from .data_services import ServiceRuntime
from .load import Load
from .runtimes import WEB_ORIGIN, PrivatePlatform, keep_logs, private_platform
from .scenarios import Outcome

KEYCLOAK_START_TIMEOUT = 240.0  # a JVM on a loaded 2-core machine; its first start makes the schema
BACK_TIMEOUT = 60.0  # bound on signing in / a staff call succeeding once Keycloak is ready
REGISTRY_TIMEOUT = 15.0  # bound on the runtimes seeing the tenant's realm (memory TTL 5 s)
STAFF_CALL_PAUSE = 0.3  # between the staff member's calls while Keycloak is down


@dataclass
class KeycloakPlatform:
    """The private platform whose tenant's realm is on the private Keycloak."""

    platform: PrivatePlatform
    keycloak: ServiceRuntime
    issuer: str
    first_start: float  # seconds of the private Keycloak's first start (schema made)


@contextlib.asynccontextmanager
async def keycloak_platform(stack: StackEnv, db: asyncpg.Pool) -> AsyncIterator[KeycloakPlatform]:
    """The private platform (tests/faults/runtimes.py) with its tenant's realm on a private
    Keycloak (on a private Postgres); `db` is the stack's registry. All removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="simptu-faults-kc-") as made:
        folder = Path(made)
        await asyncio.to_thread(folder.chmod, 0o711)  # Postgres runs as `postgres`, in it
        ctx = Context(DevstackSettings().model_copy(update={
            "state_dir": folder, "postgres_port": free_port(), "keycloak_port": free_port(),
            "keycloak_management_port": free_port()}))
        postgres = ServiceRuntime("keycloak-postgres", log=folder / "postgres.log",
                                  service=Postgres(), ctx=ctx)
        kc = ServiceRuntime("keycloak", log=folder / "keycloak.log", service=Keycloak(),
                            ctx=ctx, start_timeout=KEYCLOAK_START_TIMEOUT)
        try:
            await asyncio.to_thread(postgres.service.prepare, ctx)
            await postgres.start()
            await postgres.service.configure(ctx)  # the `keycloak` database and role
            first_start = await kc.start()
            values = StackEnv(stack.values | kc.service.env(ctx))
            async with private_platform(values) as platform:
                slug = platform.tenant.slug
                issuer = f"{Keycloak().url(ctx)}/realms/{slug}"
                admin = KeycloakAdmin.from_environment(values.values)
                try:
                    await keycloak.ensure(admin, keycloak.RealmSpec(
                        slug=slug, display_name="Keycloak fault", allowed_origins=(WEB_ORIGIN,),
                        direct_access_grants=True, demo_users=True, password_policy=""))
                finally:
                    await admin.aclose()
                await _set_issuer(db, (stack.redis_url, platform.redis_url), slug, issuer)
                platform.runtimes["keycloak"] = kc
                try:
                    yield KeycloakPlatform(platform, kc, issuer, first_start)
                finally:
                    del platform.runtimes["keycloak"]
                    await _set_issuer(db, (stack.redis_url, platform.redis_url), slug, None)
        finally:
            kc.stop()
            postgres.stop()
            keep_logs(folder, f"{folder.name}-keycloak")


async def _set_issuer(db: asyncpg.Pool, redis_urls: tuple[str, str], slug: str,
                      issuer: str | None) -> None:
    """The tenant's auth issuer in the registry, each Redis's cached record dropped."""
    caches = [connect_redis(url) for url in redis_urls]
    try:
        record = await TenantRegistry(db, caches[0]).require_ready(slug)
        async with db.acquire() as conn:
            for redis in caches:
                await upsert_tenant(conn, redis, record.model_copy(update={"auth_issuer": issuer}))
    finally:
        for redis in caches:
            await redis.aclose()


async def staff_call(platform: PrivatePlatform, token: str) -> httpx.Response:
    """A staff member's list of conversations, on the private API."""
    async with httpx.AsyncClient(base_url=platform.api_url, timeout=30) as api:
        return await api.get("/v1/chat/sessions", params={"limit": 1}, headers={
            "X-Simptu-Tenant": platform.tenant.slug, "Authorization": f"Bearer {token}"})


async def _until_staff_call_succeeds(platform: PrivatePlatform, token: str,
                                     bound: float) -> None:
    async with asyncio.timeout(bound):
        while (await staff_call(platform, token)).status_code != 200:  # noqa: ASYNC110
            await asyncio.sleep(0.2)


async def _staff_calls(platform: PrivatePlatform, token: str, statuses: list[int],
                       stop: asyncio.Event) -> None:
    """A staff member's calls one after another until `stop`, each status kept."""
    while not stop.is_set():
        statuses.append((await staff_call(platform, token)).status_code)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), STAFF_CALL_PAUSE)


async def _sign_in(issuer: str) -> str:
    """A demo staff member signing in: the access token, or raises (httpx.HTTPError)."""
    async with httpx.AsyncClient(timeout=10) as http:
        token: str = (await demo_token(http, issuer, "staff"))["access_token"]
        return token


async def _until_signed_in(issuer: str, bound: float) -> str:
    async with asyncio.timeout(bound):
        while True:
            with contextlib.suppress(httpx.HTTPError):
                return await _sign_in(issuer)
            await asyncio.sleep(0.2)


async def _forget_keys(platform: PrivatePlatform) -> None:
    """The realm's keys dropped from the private Redis (a new Redis, or their TTL ran out)."""
    redis: aioredis.Redis = connect_redis(platform.redis_url)
    try:
        keys = [key async for key in redis.scan_iter(f"{KEY_PREFIX}:jwks:*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


async def keycloak_killed(kc: KeycloakPlatform, load: Load) -> Outcome:
    """Keycloak killed (-9) after a reply's first delta reached a client, with a staff
    member's token verified before and their calls going on; a round of guest chats, a staff
    call needing the realm's keys (none cached) and a sign-in while it is down; Keycloak
    started the way `make up` starts it; a new sign-in and a staff call with the new token.
    Restart: launch to /health/ready; heal: kill to the first successful sign-in."""
    platform, issuer = kc.platform, kc.issuer
    seen, cold = [await _sign_in(issuer) for _ in range(2)]
    await _until_staff_call_succeeds(platform, seen, REGISTRY_TIMEOUT)
    await load.round()
    batch = await load.post()
    await load.accepted(batch)
    await load.first_delta(batch)
    statuses: list[int] = []
    stop = asyncio.Event()
    calls = asyncio.create_task(_staff_calls(platform, seen, statuses, stop))
    try:
        killed = time.monotonic()
        kc.keycloak.kill()
        await load.answered(batch)
        await load.round()  # guest chats while Keycloak is down
    finally:
        stop.set()
        await calls
    await _forget_keys(platform)
    refused = await staff_call(platform, cold)
    try:
        await _sign_in(issuer)
        signing_in = "succeeded"
    except httpx.ConnectError:  # refused at once: a client retries
        signing_in = "refused (connection refused, retryable)"
    except httpx.HTTPError as error:
        signing_in = f"failed ({type(error).__name__})"
    restart = await kc.keycloak.start()
    new = await _until_signed_in(issuer, BACK_TIMEOUT)
    heal = time.monotonic() - killed
    with_new = await staff_call(platform, new)
    await load.round()
    ledger = await load.check()
    ledger.refusals[f"staff call needing the realm's keys: {refused.status_code}"] += 1
    ledger.refusals[f"staff sign-in {signing_in}"] += 1
    if not statuses or set(statuses) != {200}:
        ledger.problems.append("a staff member's calls with a token verified before Keycloak "
                               f"was killed got {sorted(set(statuses))} ({len(statuses)} calls)")
    if refused.status_code != 503 or "Retry-After" not in refused.headers:
        ledger.problems.append(f"a staff call needing the realm's keys got {refused.status_code} "
                               f"{refused.text[:200]}, not 503 with a Retry-After")
    if not signing_in.startswith("refused"):
        ledger.problems.append(f"signing in while Keycloak was down: {signing_in}")
    if with_new.status_code != 200:
        ledger.problems.append(f"a staff call with a token got after the restart got "
                               f"{with_new.status_code}: {with_new.text[:200]}")
    return Outcome(f"keycloak killed, started (kill → first reply here: kill → first sign-in; "
                   f"first start {kc.first_start:.0f} s; {len(statuses)} staff calls while down)",
                   ledger, restart, heal)
