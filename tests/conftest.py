"""Fixtures shared by every test: markers by folder, the running local stack, isolated names.

Integration tests ask for `stack`: the session starts the local stack if it is not running
(the same idempotent `up` as `make up`) and reads the env file it writes. Every test gets its
own names (`unique`) and, on request, its own schema, Kafka topic prefix, namespace or
Keycloak realm, all removed afterwards.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from aiokafka.admin import AIOKafkaAdminClient
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from simptu.devstack.envfile import StackEnv
from simptu.devstack.settings import DevstackSettings
from simptu.devstack.stack import Stack
from simptu.runtime.core.crypto import KeyRing, OpenBaoTransit
from simptu.runtime.core.events import EventProducer
from simptu.runtime.core.migrations import migrate_platform, migrate_tenant
from simptu.runtime.core.redis_client import connect_redis
from simptu.runtime.core.registry import TenantRecord, delete_tenant, upsert_tenant
from simptu.runtime.core.schemas import drop_tenant_schema, ensure_tenant_schema
from simptu.runtime.core.settings import CoreSettings
from simptu.runtime.core.tenancy import TenantNames

TESTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test is marked by its folder: tests/unit -> unit, tests/integration -> integration."""
    for item in items:
        kind = Path(str(item.path)).relative_to(TESTS).parts[0]
        if kind in ("unit", "integration", "e2e"):
            item.add_marker(getattr(pytest.mark, kind))


@pytest.fixture(scope="session")
def local_stack() -> Stack:
    # The newest platform image built, not a new build of this checkout: a session's start
    # must not restart the agent pods under another session's tests (`make up` rebuilds). With
    # or without the node as the running stack was started (its env file says): a stray
    # SIMPTU_NODE in a test's environment must not switch the stack under others' tests.
    settings = DevstackSettings(rebuild_images=False)
    if settings.env_file.exists():
        settings = DevstackSettings(rebuild_images=False,
                                    node=StackEnv.load(settings.env_file).node)
    stack = Stack(settings)
    stack.up()
    return stack


@pytest.fixture(scope="session")
def stack(local_stack: Stack) -> StackEnv:
    return StackEnv.load(local_stack.ctx.settings.env_file)


@pytest.fixture
def unique() -> str:
    """A short name unique to this test, valid as a schema, topic, namespace or realm name."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def schema(stack: StackEnv, unique: str) -> AsyncIterator[str]:
    """An empty Postgres schema of this test's own, dropped with everything in it afterwards."""
    conn = await asyncpg.connect(stack.database_url)
    try:
        await conn.execute(f"CREATE SCHEMA {unique}")
        yield unique
    finally:
        await conn.execute(f"DROP SCHEMA IF EXISTS {unique} CASCADE")
        await conn.close()


@pytest.fixture
async def topic_prefix(stack: StackEnv, unique: str) -> AsyncIterator[str]:
    """A prefix for this test's Kafka topics (`simptu.<unique>.`); they are deleted afterwards."""
    prefix = f"simptu.{unique}."
    yield prefix
    admin = AIOKafkaAdminClient(**stack.kafka.client_options())
    await admin.start()
    try:
        mine = [name for name in await admin.list_topics() if name.startswith(prefix)]
        if mine:
            await admin.delete_topics(mine)
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def kube(stack: StackEnv) -> k8s.ApiClient:
    """A Kubernetes API client logged in as the stack's admin."""
    api: k8s.ApiClient = k8s_config.new_client_from_config(
        config_file=stack.kubeconfig)
    return api


@pytest.fixture
def namespace(kube: k8s.ApiClient, unique: str) -> Iterator[str]:
    """A Kubernetes namespace of this test's own, deleted afterwards."""
    core = k8s.CoreV1Api(kube)
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=unique)))
    yield unique
    core.delete_namespace(unique)


@pytest.fixture
async def keycloak_admin(stack: StackEnv) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for Keycloak's admin API, with a master-realm admin token."""
    async with httpx.AsyncClient(base_url=stack["SIMPTU_KEYCLOAK_URL"], timeout=30) as http:
        answer = await http.post("/realms/master/protocol/openid-connect/token", data={
            "grant_type": "password", "client_id": "admin-cli",
            "username": stack["SIMPTU_KEYCLOAK_ADMIN_USER"],
            "password": stack["SIMPTU_KEYCLOAK_ADMIN_PASSWORD"]})
        answer.raise_for_status()
        http.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        yield http


@pytest.fixture
async def realm(keycloak_admin: httpx.AsyncClient, unique: str) -> AsyncIterator[str]:
    """The name of an enabled Keycloak realm of this test's own, deleted afterwards."""
    created = await keycloak_admin.post("/admin/realms", json={"realm": unique, "enabled": True})
    assert created.status_code == 201, created.text
    yield unique
    await keycloak_admin.delete(f"/admin/realms/{unique}")


@pytest.fixture(scope="session")
def core_settings(stack: StackEnv) -> CoreSettings:
    """The runtimes' settings for the local stack, as `eval "$(make -s env)"` would give them."""
    return CoreSettings.model_validate(
        {key.removeprefix("SIMPTU_").lower(): value for key, value in stack.values.items()}
        | {"bao_addr": stack["BAO_ADDR"], "bao_auth": "token", "bao_token": stack["BAO_TOKEN"]})


@pytest.fixture(scope="session")
async def db(stack: StackEnv) -> AsyncIterator[asyncpg.Pool]:
    """The platform's connection pool, with the registry schema migrated."""
    pool = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=10)
    assert pool is not None
    async with pool.acquire() as conn:
        await migrate_platform(conn)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
async def key_ring(db: asyncpg.Pool, core_settings: CoreSettings) -> AsyncIterator[KeyRing]:
    """Seals and opens tenants' fields as the runtimes do (the agent's and hub's tests)."""
    async with KeyRing(db, OpenBaoTransit.from_settings(core_settings)) as ring:
        yield ring


@pytest.fixture(scope="session")
async def producer(core_settings: CoreSettings) -> AsyncIterator[EventProducer]:
    async with EventProducer(core_settings.kafka, client_id="simptu-tests") as made:
        yield made


@pytest.fixture
async def stack_pool_of_one(stack: StackEnv) -> AsyncIterator[asyncpg.Pool]:
    """A pool of exactly one connection, to see what one request leaves for the next."""
    pool = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=1)
    assert pool is not None
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
async def redis_client(stack: StackEnv) -> AsyncIterator[aioredis.Redis]:
    client = connect_redis(stack.redis_url)
    yield client
    await client.aclose()


TenantFactory = Callable[..., Awaitable[TenantNames]]


@pytest.fixture
async def make_tenant(db: asyncpg.Pool, redis_client: aioredis.Redis,
                      unique: str) -> AsyncIterator[TenantFactory]:
    """Provision tenants the way the operator does (schema, role, migrations, registry row);
    every tenant made is removed afterwards."""
    made: list[TenantNames] = []

    async def make(suffix: str = "a", business_type: str = "dental-clinic",
                   status: str = "Ready") -> TenantNames:
        tenant = TenantNames(f"{unique}-{suffix}")
        made.append(tenant)
        async with db.acquire() as conn:
            await ensure_tenant_schema(conn, tenant)
            await migrate_tenant(conn, tenant)
            await upsert_tenant(conn, redis_client, TenantRecord(
                slug=tenant.slug, status=status, business_type=business_type,  # type: ignore[arg-type]
                schema_name=tenant.schema, transit_key=tenant.transit_key))
        return tenant

    yield make
    async with db.acquire() as conn:
        for tenant in made:
            await delete_tenant(conn, redis_client, tenant.slug)
            await drop_tenant_schema(conn, tenant)


async def run_simptu(stack: StackEnv, *args: str) -> tuple[int, str, str]:
    """`python -m simptu.runtime ARGS` with the stack's settings: (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simptu.runtime", *args,
        env={**stack.values, "PATH": "/usr/bin:/bin"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=180)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()
