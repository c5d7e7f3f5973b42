"""Keycloak unreachable while the load runs. The stack's Keycloak serves everyone's tests and
takes 30-60 s to start, so it is not killed: the private tenant is given a realm on it whose
issuer the platform reaches through a TCP forwarder of the test's own, and closing the
forwarder (connections refused, as from a killed Keycloak) takes Keycloak away from the
private API alone; opening it again brings it back.

What it shows: guest chats never touch Keycloak (a guest token is the API's own); a staff
token the API verified before goes on working (its claims and the realm's keys are cached);
signing in fails; an API with no cached keys answers 503 `issuer-unavailable` with a
Retry-After until Keycloak is back."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import asyncpg
import httpx
import redis.asyncio as aioredis

from simptu.devstack.demo_tokens import demo_token
from simptu.devstack.envfile import StackEnv
from simptu.operator import keycloak
from simptu.runtime.core.keycloak_admin import KeycloakAdmin
from simptu.runtime.core.oidc import KEY_PREFIX
from simptu.runtime.core.redis_client import connect_redis
from simptu.runtime.core.registry import TenantRegistry, upsert_tenant
from tests.ports import free_port

from .load import Load
from .runtimes import WEB_ORIGIN, PrivatePlatform
from .scenarios import Outcome

BACK_TIMEOUT = 30.0  # bound on a staff call succeeding once Keycloak is reachable again
REGISTRY_TIMEOUT = 15.0  # bound on the runtimes seeing the tenant's realm (memory TTL 5 s)


class Forwarder:
    """A TCP forwarder on a port of its own to `target` (host, port); `close()` refuses every
    connection and cuts the open ones, `open()` listens again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._connect, "127.0.0.1", self.port,
                                                  reuse_address=True)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _connect(self, client_in: asyncio.StreamReader,
                       client_out: asyncio.StreamWriter) -> None:
        try:
            server_in, server_out = await asyncio.open_connection(*self.target)
        except OSError:
            client_out.close()
            return
        pipes = [asyncio.create_task(_pipe(client_in, server_out)),
                 asyncio.create_task(_pipe(server_in, client_out))]
        self._pipes.update(pipes)
        try:
            await asyncio.gather(*pipes, return_exceptions=True)
        finally:
            self._pipes.difference_update(pipes)
            for writer in (client_out, server_out):
                writer.close()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    with contextlib.suppress(OSError):
        sink.close()


@contextlib.asynccontextmanager
async def realm_behind_forwarder(platform: PrivatePlatform, stack: StackEnv,
                                 db: asyncpg.Pool) -> AsyncIterator[tuple[Forwarder, str]]:
    """The private tenant's realm (demo users, password grants), its issuer reached through a
    forwarder and written to the registry; the forwarder and that issuer. Removed after."""
    admin = KeycloakAdmin.from_environment(stack.values)
    keycloak_url = urlsplit(stack["SIMPTU_KEYCLOAK_URL"])
    forwarder = Forwarder((keycloak_url.hostname or "127.0.0.1", keycloak_url.port or 80))
    await forwarder.open()
    slug = platform.tenant.slug
    issuer = f"http://127.0.0.1:{forwarder.port}/realms/{slug}"
    private_redis = connect_redis(platform.redis_url)
    stack_redis = connect_redis(stack.redis_url)
    try:
        await keycloak.ensure(admin, keycloak.RealmSpec(
            slug=slug, display_name="Keycloak fault", allowed_origins=(WEB_ORIGIN,),
            direct_access_grants=True, demo_users=True, password_policy=""))
        await _set_issuer(db, (stack_redis, private_redis), slug, issuer)
        try:
            yield forwarder, issuer
        finally:
            await _set_issuer(db, (stack_redis, private_redis), slug, None)
            await keycloak.remove(admin, slug)
    finally:
        await forwarder.close()
        await private_redis.aclose()
        await stack_redis.aclose()
        await admin.aclose()


async def _set_issuer(db: asyncpg.Pool, caches: tuple[aioredis.Redis, aioredis.Redis],
                      slug: str, issuer: str | None) -> None:
    """The tenant's auth issuer in the registry, each Redis's cached record dropped."""
    record = await TenantRegistry(db, caches[0]).require_ready(slug)
    async with db.acquire() as conn:
        for redis in caches:
            await upsert_tenant(conn, redis, record.model_copy(update={"auth_issuer": issuer}))


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


async def keycloak_unreachable(platform: PrivatePlatform, load: Load, stack: StackEnv,
                               db: asyncpg.Pool) -> Outcome:
    """Keycloak cut off from the private API after a staff member's token was verified,
    with two more staff tokens in hand (one for an API whose key cache is empty); the load
    runs on; Keycloak reachable again after. Restart: 0 (nothing restarts); heal: from
    Keycloak's return to the first staff call that needed it succeeding."""
    async with realm_behind_forwarder(platform, stack, db) as (forwarder, issuer):
        async with httpx.AsyncClient(timeout=30) as http:
            seen, cold = [(await demo_token(http, issuer, "staff"))["access_token"]
                          for _ in range(2)]
        await _until_staff_call_succeeds(platform, seen, REGISTRY_TIMEOUT)
        await load.round()
        await forwarder.close()
        await load.round()
        verified_before = await staff_call(platform, seen)
        private_redis = connect_redis(platform.redis_url)
        try:  # an API whose Redis lost the realm's keys (a new Redis, or their TTL ran out)
            await private_redis.delete(*[key async for key in
                                         private_redis.scan_iter(f"{KEY_PREFIX}:jwks:*")])
        finally:
            await private_redis.aclose()
        refused = await staff_call(platform, cold)
        async with httpx.AsyncClient(timeout=10) as http:
            try:
                await demo_token(http, issuer, "staff")
                signing_in = "succeeded"
            except httpx.HTTPError as error:
                signing_in = f"failed ({type(error).__name__})"
        await forwarder.open()
        back = time.monotonic()
        await _until_staff_call_succeeds(platform, cold, BACK_TIMEOUT)
        healed = time.monotonic() - back
    await load.round()
    ledger = await load.check()
    ledger.refusals[f"staff call needing the realm's keys: {refused.status_code}"] += 1
    ledger.refusals[f"staff sign-in {signing_in}"] += 1
    if verified_before.status_code != 200:
        ledger.problems.append("a staff token verified before Keycloak went away got "
                               f"{verified_before.status_code}: {verified_before.text[:200]}")
    if refused.status_code != 503 or "Retry-After" not in refused.headers:
        ledger.problems.append(f"a staff call needing the realm's keys got {refused.status_code} "
                               f"{refused.text[:200]}, not 503 with a Retry-After")
    if signing_in == "succeeded":
        ledger.problems.append("signing in succeeded while Keycloak was away (not cut off?)")
    return Outcome("keycloak unreachable (guest chat, verified staff tokens go on)", ledger,
                   0.0, healed)
