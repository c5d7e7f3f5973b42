"""History pages served from the sealed cache in Redis: a page read again comes from Redis,
which holds it sealed; every writer of a message (the API, the hub, the agent) forgets the
session's pages once it has committed; a page that does not open is read again."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI

from simptu.runtime.api.app import create_app
from simptu.runtime.api.settings import ApiSettings
from simptu.runtime.core.chat import store as chat_store
from simptu.runtime.core.chat.actions import record_reply
from simptu.runtime.core.chat.history_cache import forget_history, history_collection
from simptu.runtime.core.crypto import KeyRing
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.events import CloudEvent
from simptu.runtime.core.registry import TenantRegistry
from simptu.runtime.core.tenant_cache import PREFIX
from tests.integration.api.conftest import ApiTenant, UserHeaders, client_of
from tests.integration.api.test_behaviour import assert_problem
from tests.integration.api.test_chat_sessions import SESSIONS, guest_headers


async def _texts(api: httpx.AsyncClient, session_id: str,
                 headers: dict[str, str]) -> list[str]:
    answer = await api.get(f"{SESSIONS}/{session_id}/messages", headers=headers)
    assert answer.status_code == 200, answer.text
    return [item["text"] for item in answer.json()["items"]]


async def _eventually(api: httpx.AsyncClient, session_id: str, headers: dict[str, str],
                      expected: list[str]) -> None:
    """Another process's write reaches this process's own copies once its announcement
    arrives (a moment later): read until the page shows it."""
    deadline = asyncio.get_running_loop().time() + 5
    while (texts := await _texts(api, session_id, headers)) != expected:
        assert asyncio.get_running_loop().time() < deadline, texts
        await asyncio.sleep(0.01)


async def _stored_behind_the_api(db: asyncpg.Pool, key_ring: KeyRing, tenant: ApiTenant,
                                 session_id: str, text: str) -> None:
    """A message written without telling the cache (as a writer that died after its commit)."""
    async with TenantUnitOfWork(db, tenant.names) as conn:
        await chat_store.add_message(conn, key_ring.cipher(tenant.names, conn),
                                     uuid.UUID(session_id), "customer", None, text)


def _pages_key(tenant: ApiTenant, session_id: str) -> str:
    """The Redis key of the session's cached pages (a hash of them)."""
    return f"{PREFIX}:{{{tenant.slug}}}:{history_collection(uuid.UUID(session_id))}"


async def _cached_pages(redis_client: aioredis.Redis, tenant: ApiTenant,
                        session_id: str) -> dict[bytes, bytes]:
    pages = await redis_client.hgetall(_pages_key(tenant, session_id))
    return {_bytes(name): _bytes(value) for name, value in pages.items()
            if not _bytes(name).startswith(b"~")}


def _bytes(value: object) -> bytes:
    assert isinstance(value, bytes)  # the platform's clients do not decode responses
    return value


async def test_a_page_read_again_comes_from_redis_where_it_is_sealed(
        api: httpx.AsyncClient, api_app: FastAPI, tenant_a: ApiTenant, db: asyncpg.Pool,
        key_ring: KeyRing, redis_client: aioredis.Redis) -> None:
    guest, session_id = await guest_headers(api_app, tenant_a)
    secret = f"my card ends in {uuid.uuid4().int % 10_000:04d}"
    assert (await api.post(f"{SESSIONS}/{session_id}/messages", json={"text": secret},
                           headers=guest)).status_code == 201
    assert await _texts(api, session_id, guest) == [secret]
    pages = await _cached_pages(redis_client, tenant_a, session_id)
    assert list(pages) == [b"0:50"]
    assert secret.encode() not in pages[b"0:50"]
    assert session_id.encode() not in pages[b"0:50"]
    # The database changes behind the cache's back: the page still comes from Redis ...
    await _stored_behind_the_api(db, key_ring, tenant_a, session_id, "written elsewhere")
    assert await _texts(api, session_id, guest) == [secret]
    # ... until a writer says it committed.
    await forget_history(redis_client, tenant_a.names, uuid.UUID(session_id))
    await _eventually(api, session_id, guest, [secret, "written elsewhere"])


async def test_a_message_posted_through_the_api_is_in_the_next_read(
        api: httpx.AsyncClient, tenant_a: ApiTenant, as_user: UserHeaders) -> None:
    customer = await as_user(tenant_a, "customer")
    session_id = (await api.post(SESSIONS, json={}, headers=customer)).json()["id"]
    sent: list[str] = []
    for n in range(3):
        assert await _texts(api, session_id, customer) == sent  # cached after the first read
        sent.append(f"message {n}")
        assert (await api.post(f"{SESSIONS}/{session_id}/messages", json={"text": sent[-1]},
                               headers=customer)).status_code == 201
    assert await _texts(api, session_id, await as_user(tenant_a, "staff")) == sent


async def test_a_cached_page_is_still_refused_to_who_may_not_see_it(
        api: httpx.AsyncClient, api_app: FastAPI, tenant_a: ApiTenant,
        as_user: UserHeaders) -> None:
    guest, session_id = await guest_headers(api_app, tenant_a)
    await api.post(f"{SESSIONS}/{session_id}/messages", json={"text": "hello"}, headers=guest)
    assert await _texts(api, session_id, await as_user(tenant_a, "staff")) == ["hello"]
    other_guest, _ = await guest_headers(api_app, tenant_a)
    for headers in (other_guest, await as_user(tenant_a, "customer")):
        assert_problem(await api.get(f"{SESSIONS}/{session_id}/messages", headers=headers), 404)


@pytest.fixture(scope="module")
async def replica(api_settings: ApiSettings) -> AsyncIterator[FastAPI]:
    """Another API process: its own copies of pages, its own subscription."""
    app = create_app(api_settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="module")
async def replica_without_copies(api_settings: ApiSettings) -> AsyncIterator[FastAPI]:
    """An API process that asks Redis for every page (its own copies turned off)."""
    app = create_app(api_settings.model_copy(update={"api_history_local_pages": 0}))
    async with app.router.lifespan_context(app):
        yield app


async def test_a_write_through_one_replica_shows_on_another_that_kept_the_page(
        api: httpx.AsyncClient, api_app: FastAPI, replica: FastAPI, tenant_a: ApiTenant,
        as_user: UserHeaders) -> None:
    staff = await as_user(tenant_a, "staff")
    guest, session_id = await guest_headers(api_app, tenant_a)
    async with client_of(replica) as other:
        await api.post(f"{SESSIONS}/{session_id}/messages", json={"text": "one"}, headers=guest)
        for _ in range(2):
            assert await _texts(other, session_id, staff) == ["one"]
        # The replica answers from its own copy now.
        near = replica.state.platform.near_cache
        assert near.get(_pages_key(tenant_a, session_id), "0:50") is not None
        await api.post(f"{SESSIONS}/{session_id}/messages", json={"text": "two"}, headers=guest)
        await _eventually(other, session_id, staff, ["one", "two"])


async def test_a_page_that_does_not_open_is_read_again(
        api_app: FastAPI, replica_without_copies: FastAPI, tenant_a: ApiTenant,
        redis_client: aioredis.Redis) -> None:
    async with client_of(replica_without_copies) as api:
        guest, session_id = await guest_headers(api_app, tenant_a)
        await api.post(f"{SESSIONS}/{session_id}/messages", json={"text": "first"}, headers=guest)
        assert await _texts(api, session_id, guest) == ["first"]
        key = _pages_key(tenant_a, session_id)
        sealed = _bytes(await redis_client.hget(key, "0:50"))
        # Another session's page in its place opens nowhere else (it is bound to its page) ...
        other, other_id = await guest_headers(api_app, tenant_a)
        await api.post(f"{SESSIONS}/{other_id}/messages", json={"text": "theirs"}, headers=other)
        await _texts(api, other_id, other)
        theirs = await redis_client.hget(_pages_key(tenant_a, other_id), "0:50")
        await redis_client.hset(key, "0:50", theirs)
        assert await _texts(api, session_id, guest) == ["first"]
        # ... and neither does a flipped bit.
        await redis_client.hset(key, "0:50", sealed[:-1] + bytes([sealed[-1] ^ 1]))
        assert await _texts(api, session_id, guest) == ["first"]


async def test_the_agents_reply_forgets_the_pages_of_its_session_once_committed(
        api: httpx.AsyncClient, api_app: FastAPI, tenant_a: ApiTenant, db: asyncpg.Pool,
        key_ring: KeyRing, redis_client: aioredis.Redis) -> None:
    guest, session_id = await guest_headers(api_app, tenant_a)
    assert await _texts(api, session_id, guest) == []
    tenant = await TenantRegistry(db, redis_client).require_ready(tenant_a.slug)

    async with TenantUnitOfWork(db, tenant_a.names) as conn:  # as the agent's turn does
        await record_reply(conn, key_ring.cipher(tenant_a.names, conn), redis_client, tenant,
                           uuid.UUID(session_id), uuid.uuid4(), "the agent's reply", None,
                           source="/test")
        assert await _texts(api, session_id, guest) == []  # not committed: the page stands
    assert await _texts(api, session_id, guest) == ["the agent's reply"]


def _event(tenant: ApiTenant, data: dict[str, Any]) -> CloudEvent:
    return CloudEvent(id=str(uuid.uuid4()), source="/test", type="io.simptu.chat.message.received",
                      tenantid=tenant.slug, data=data)
