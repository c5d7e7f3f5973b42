"""Faults of the platform's services around a message's path, injected while the load runs:
the outbox relay killed in the middle of a batch (published, not yet deleted) and started
again, the operator killed in the middle of another tenant's provisioning, and a hung
dependency (a conversation's row lock held outside the platform).

The relay's fault runs on a platform whose tenant lives in a Postgres of its own
(`relay_platform`): any other relay that runs (the stack's, a test's, a chart's pod) serves
every tenant of the shared Postgres and would drain the batch first."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from simptu.devstack.envfile import StackEnv
from simptu.devstack.services.base import Context
from simptu.devstack.services.postgres import Postgres
from simptu.devstack.settings import DevstackSettings
from simptu.operator.conditions import PARTS
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.events.topics import kafka_admin, tenant_topics
from simptu.runtime.core.keycloak_admin import KeycloakAdmin
from simptu.runtime.core.tenancy import TenantNames
from tests.integration.operator.conftest import Tenants
from tests.integration.operator.operator_process import OperatorProcess
from tests.ports import free_port

from .data_services import DataTier, ServiceRuntime
from .load import Load
from .runtimes import PrivatePlatform, private_platform
from .scenarios import Outcome, _first_answer_after, republished, resent_parts

BLOCKED_TIMEOUT = 30.0  # bound on the relay reaching its batch's DELETE
UNDER_WAY_TIMEOUT = 60.0  # bound on the operator reaching its fourth step (the realm)
PROVISIONED_TIMEOUT = 120.0  # bound on the tenant becoming Ready after the restart
# Bound on the hub giving up a statement that waits for a lock: the pool's command timeout
# (runtime/core/database.py, 30 s) and a margin.
GIVEN_UP_TIMEOUT = 50.0


@contextlib.asynccontextmanager
async def relay_platform(stack: StackEnv) -> AsyncIterator[tuple[PrivatePlatform, asyncpg.Pool]]:
    """The private platform with its tenant (and registry) on a Postgres of its own, made and
    started by the stack's code (tests/faults/data_services.py), so that its private relay is
    the only one that sees the tenant; the platform and a pool of that Postgres."""
    with tempfile.TemporaryDirectory(prefix="simptu-faults-relay-") as made:
        folder = Path(made)
        await asyncio.to_thread(folder.chmod, 0o711)  # Postgres runs as `postgres`, in it
        ctx = Context(DevstackSettings().model_copy(update={
            "state_dir": folder, "postgres_port": free_port()}))
        tier = DataTier(ctx, {"postgres": ServiceRuntime(
            "postgres", log=folder / "postgres.log", service=Postgres(), ctx=ctx)})
        try:
            await tier.start()
            url = tier.database_url
            async with private_platform(StackEnv(stack.values | {"SIMPTU_DATABASE_URL": url}),
                                        {"SIMPTU_OUTBOX_LISTEN_DATABASE_URL": url}) as platform:
                pool = await asyncpg.create_pool(url, min_size=1, max_size=4)
                try:
                    yield platform, pool
                finally:
                    await pool.close()
        finally:
            tier.stop()


async def relay_killed_mid_batch(platform: PrivatePlatform, load: Load,
                                 db: asyncpg.Pool) -> Outcome:
    """The relay killed after Kafka acknowledged a batch and before the batch's rows were
    deleted (a test transaction holds the rows, so the relay's DELETE waits for it), then
    started again: it publishes the batch a second time, and the platform's consumers (the
    agent, the hub) drop what they handled already; every message is answered once."""
    await load.round()
    platform["relay"].kill()
    batch = await load.post()
    await load.accepted(batch)  # the hub stored them; their events wait in the outbox
    async with TenantUnitOfWork(db, platform.tenant.names) as holder:
        held = await holder.fetchval(
            "WITH held AS (SELECT id FROM outbox FOR UPDATE) SELECT count(*) FROM held")
        assert held >= len(batch), f"{held} outbox rows for {len(batch)} messages"
        await platform["relay"].start()
        await _until_blocked_by(db, await holder.fetchval("SELECT pg_backend_pid()"))
        killed = time.monotonic()
        platform["relay"].kill()
    restarted = await platform["relay"].start()
    await load.answered(batch)
    after = await load.round()
    return Outcome("relay killed mid-batch", await load.check(), restarted,
                   _first_answer_after([batch, after], killed),
                   await resent_parts(platform) + await republished(platform, "inbound"))


async def _until_blocked_by(db: asyncpg.Pool, holder: int) -> set[tuple[int, Any]]:
    """Until a transaction waits for `holder`'s locks; the transactions that wait (each its
    session and its start)."""
    async with asyncio.timeout(BLOCKED_TIMEOUT):
        while True:
            if waiting := await _blocked_by(db, holder):
                return waiting
            await asyncio.sleep(0.05)


async def _blocked_by(db: asyncpg.Pool, holder: int) -> set[tuple[int, Any]]:
    return {(row["pid"], row["xact_start"]) for row in await db.fetch(
        "SELECT pid, xact_start FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
        holder)}


async def conversation_locked(platform: PrivatePlatform, load: Load,
                              db: asyncpg.Pool) -> Outcome:
    """A hung dependency: a session outside the platform holds one conversation's row lock
    (which posting a message takes), with a message of every conversation in flight. The
    hub's statement waits until the pool's command timeout gives it up (its connection back
    to the pool); the client, whose push timed out meanwhile, retries. The other
    conversations are accepted and answered as usual; once the lock is released, the held
    conversation's message is accepted once and answered. Restart: how long the hub's
    statement waited before it was given up; heal: from the release to that answer."""
    await load.round()
    held_chat = load.conversations[0]
    async with TenantUnitOfWork(db, platform.tenant.names) as holder:
        await holder.execute("SELECT 1 FROM chat_sessions WHERE id = $1 FOR UPDATE",
                             uuid.UUID(held_chat.session_id))
        batch = await load.post()
        accepting = asyncio.create_task(load.accepted(batch))
        holder_pid = await holder.fetchval("SELECT pg_backend_pid()")
        waiting = await _until_blocked_by(db, holder_pid)
        blocked_at = time.monotonic()
        async with asyncio.timeout(GIVEN_UP_TIMEOUT):
            while waiting & await _blocked_by(db, holder_pid):  # noqa: ASYNC110
                await asyncio.sleep(0.2)  # the hub's first attempt still waits
        given_up = time.monotonic() - blocked_at
    released = time.monotonic()
    await accepting
    await load.answered(batch)
    after = await load.round()
    ledger = await load.check()
    ledger.problems += [f"{sent.marker}: refused ({sent.refusals}) though its conversation "
                        "was not locked" for sent in batch
                        if sent.conversation is not held_chat and sent.refusals]
    held = next(sent for sent in batch if sent.conversation is held_chat)
    if not held.refusals:
        ledger.problems.append("the locked conversation's message was never refused")
    return Outcome("a conversation's row locked until the hub's statement times out", ledger,
                   given_up, _first_answer_after([[held], after], released))


async def operator_killed_mid_provisioning(
        platform: PrivatePlatform, load: Load, stack: StackEnv, db: asyncpg.Pool,
        tenants: Tenants, operator: OperatorProcess, name: str) -> Outcome:
    """An operator (of its own, above the stack's: Kopf pauses that one) killed once the
    tenant's database, key and topics are made and its realm exists (the fourth of the steps,
    perhaps half-done: its clients may not), while the load runs on another tenant, and started
    again: the tenant becomes Ready with each thing made once, and the load never noticed.
    Its heal time is from the kill to the tenant's Ready."""
    steady = asyncio.Event()
    rounds = asyncio.create_task(_rounds_until(load, steady))
    try:
        await operator.start()
        await asyncio.to_thread(tenants.apply, {
            "apiVersion": "simptu.io/v1alpha1", "kind": "Tenant", "metadata": {"name": name},
            "spec": {"displayName": "Operator fault", "businessType": "hotel",
                     "deletionPolicy": "Delete"}})
        await _until_realm_exists(stack, name)
        killed = time.monotonic()
        await operator.kill()
        phase_at_kill = (await asyncio.to_thread(_status, tenants, name)).get("phase")
        started = time.monotonic()
        await operator.start()
        restarted = time.monotonic() - started
        status = await _until_ready(tenants, name)
        ready = time.monotonic() - killed
    finally:
        steady.set()
        await rounds
    await load.round()
    ledger = await load.check()
    if phase_at_kill == "Ready":
        ledger.problems.append("the operator was killed after the tenant was Ready")
    ledger.problems += await _made_once(stack, db, TenantNames(name), status)
    return Outcome("operator killed mid-provisioning (heal: kill → tenant Ready)", ledger,
                   restarted, ready)


async def _rounds_until(load: Load, done: asyncio.Event) -> None:
    while not done.is_set():
        await load.round()


async def _until_realm_exists(stack: StackEnv, realm: str) -> None:
    """Until Keycloak serves the tenant's realm: its database, key and topics are made."""
    url = f"{stack['SIMPTU_KEYCLOAK_URL'].rstrip('/')}/realms/{realm}"
    async with asyncio.timeout(UNDER_WAY_TIMEOUT), httpx.AsyncClient(timeout=5) as http:
        while True:
            if (await http.get(url)).status_code == 200:
                return
            await asyncio.sleep(0.05)


def _status(tenants: Tenants, name: str) -> dict[str, Any]:
    status: dict[str, Any] = tenants.get(name).get("status") or {}
    return status


async def _until_ready(tenants: Tenants, name: str) -> dict[str, Any]:
    async with asyncio.timeout(PROVISIONED_TIMEOUT):
        while True:
            status = await asyncio.to_thread(_status, tenants, name)
            if status.get("phase") == "Ready":
                return status
            await asyncio.sleep(0.5)


async def _made_once(stack: StackEnv, db: asyncpg.Pool, names: TenantNames,
                     status: dict[str, Any]) -> list[str]:
    """What of the tenant is missing, half-made or made twice: every step's condition True,
    one schema with one data key of each purpose, one registry row, the transit key at its
    first version, its topics, one realm with the platform's three clients."""
    problems = [f"condition {c['type']} is {c['status']}: {c['message']}"
                for c in status.get("conditions", [])
                if c["type"] in PARTS and c["status"] != "True"]
    keys = await db.fetch(f"SELECT purpose, version FROM {names.schema}.data_keys")
    if sorted((k["purpose"], k["version"]) for k in keys) != [("data", 1), ("index", 1)]:
        problems.append(f"data keys {sorted(tuple(k) for k in keys)}")
    if await db.fetchval("SELECT count(*) FROM platform.tenants WHERE slug = $1",
                         names.slug) != 1:
        problems.append("not one registry row")
    async with httpx.AsyncClient(timeout=10) as http:
        key = await http.get(f"{stack['BAO_ADDR']}/v1/transit/keys/{names.transit_key}",
                             headers={"X-Vault-Token": stack["BAO_TOKEN"]})
    if key.status_code != 200 or key.json()["data"]["latest_version"] != 1:
        problems.append(f"transit key {names.transit_key}: {key.status_code} {key.text[:200]}")
    async with kafka_admin(stack.kafka) as admin:
        missing = set(tenant_topics(names)) - set(await admin.list_topics())
    if missing:
        problems.append(f"topics {sorted(missing)} missing")
    keycloak = KeycloakAdmin.from_environment(stack.values)
    try:
        clients = (await keycloak.request("GET", f"/{names.slug}/clients")).json()
    finally:
        await keycloak.aclose()
    ours = sorted(c["clientId"] for c in clients if c["clientId"].startswith("simptu-"))
    if ours != ["simptu-agent", "simptu-operator", "simptu-web"]:
        problems.append(f"realm clients {ours}")
    return problems
