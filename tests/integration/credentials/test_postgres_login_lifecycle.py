"""A new tenant's Postgres login through its life, its agent running as a real pod: rotating it
while a conversation runs loses no reply, the pods roll onto a new login and the old one is
refused afterwards (directly and through PgBouncer); a login dropped by hand is made again by
the next reconcile; deleting the tenant refuses its login."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from kubernetes import client as k8s

from simptu.devstack.envfile import StackEnv
from simptu.operator import database_login
from simptu.runtime.core.crypto import KeyRing
from simptu.runtime.core.events import EventProducer
from simptu.runtime.core.settings import CoreSettings
from simptu.runtime.core.tenancy import TenantNames
from tests.integration.agent.conftest import Chat
from tests.integration.credentials.postgres_login_pods import delivered_login
from tests.integration.credentials.redis_acl_pods import annotate_tenant, ready_agent_pod, until
from tests.integration.credentials.talking_tenant import (
    PROVISIONING,
    ROLLING,
    exchange,
    talking_tenant,
)


def _url(stack: StackEnv, login: tuple[str, str], pooler: bool = False) -> str:
    base = urlsplit(stack["SIMPTU_POOLER_DATABASE_URL"] if pooler else stack.database_url)
    user, password = login
    address = base.netloc.rsplit("@", 1)[1]
    return urlunsplit(base._replace(netloc=f"{user}:{password}@{address}"))


async def _current_user(url: str) -> str:
    conn = await asyncpg.connect(url, statement_cache_size=0, timeout=20)
    try:
        return str(await conn.fetchval("SELECT current_user"))
    finally:
        await conn.close()


async def _refused(stack: StackEnv, login: tuple[str, str]) -> None:
    """Postgres refuses the login; PgBouncer too (it finds no such agent login)."""
    for pooler in (False, True):
        try:
            user = await _current_user(_url(stack, login, pooler))
        except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError,
                asyncpg.ProtocolViolationError):
            continue
        raise AssertionError(f"{login[0]} still logs in as {user} (pooler: {pooler})")


async def _logins(db: asyncpg.Pool, names: TenantNames) -> set[str]:
    rows = await db.fetch("SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)",
                          database_login.login_prefix(names))
    return {row["rolname"] for row in rows}


async def _rotate_while_talking(kube: k8s.ApiClient, stack: StackEnv, db: asyncpg.Pool,
                                conversation: Chat, slug: str) -> None:
    old = delivered_login(kube, slug)
    assert old is not None
    annotate_tenant(kube, slug, {database_login.ROTATE_ANNOTATION: "1"})
    await exchange(conversation, "Bună ziua, din nou!")  # while the pods roll

    async def rotated() -> bool:
        new = delivered_login(kube, slug)
        return (new is not None and new != old
                and await _logins(db, TenantNames(slug)) == {new[0]})

    await asyncio.wait_for(until(rotated), ROLLING)
    await asyncio.wait_for(until(lambda: ready_agent_pod(kube, slug) is not None), ROLLING)
    await exchange(conversation, "Mulțumesc!")  # the new pod, on the new login
    await _refused(stack, old)
    new = delivered_login(kube, slug)
    assert new is not None
    assert await _current_user(_url(stack, new)) == new[0]
    assert await _current_user(_url(stack, new, pooler=True)) == new[0]


async def _dropped_login_is_made_again(kube: k8s.ApiClient, stack: StackEnv,
                                       db: asyncpg.Pool, slug: str) -> None:
    lost = delivered_login(kube, slug)
    assert lost is not None
    async with db.acquire() as conn:
        await conn.execute(f'DROP ROLE "{lost[0]}"')  # by hand: the pod's sessions live on
    annotate_tenant(kube, slug, {"simptu.io/test-touch": "1"})  # a change: a reconcile now

    async def made_again() -> bool:
        found = delivered_login(kube, slug)
        return found is not None and found[0] != lost[0]

    await asyncio.wait_for(until(made_again), PROVISIONING)
    again = delivered_login(kube, slug)
    assert again is not None
    assert await _current_user(_url(stack, again)) == again[0]


async def test_a_tenants_login_rotates_is_repaired_and_is_refused_once_deleted(
        kube: k8s.ApiClient, stack: StackEnv, unique: str, db: asyncpg.Pool,
        key_ring: KeyRing, producer: EventProducer, core_settings: CoreSettings) -> None:
    slug = f"{unique}-pg"
    async with talking_tenant(kube, slug, db, key_ring, producer,
                              core_settings.kafka) as conversation:
        await exchange(conversation, "Bună ziua!")
        await _rotate_while_talking(kube, stack, db, conversation, slug)
        # One stored reply per message, none lost while the pods rolled.
        assert len(await conversation.agent_messages()) == 3
        await _dropped_login_is_made_again(kube, stack, db, slug)
        last = delivered_login(kube, slug)
        assert last is not None
    await _refused(stack, last)
    assert await _logins(db, TenantNames(slug)) == set()
