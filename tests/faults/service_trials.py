"""One trial of each service fault for `bench/bench_faults.py`: its platform made (the private
one, or the one on a private OpenBao, Keycloak, Postgres or data tier), the load opened, the
fault run, everything removed."""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from simptu.devstack.envfile import StackEnv
from tests.integration.operator.conftest import CRDS, Kubectl, Tenants, install
from tests.integration.operator.operator_process import OperatorProcess

from .data_services import private_data_platform
from .kafka_pause import kafka_paused
from .keycloak_faults import keycloak_killed, keycloak_platform
from .load import Load
from .openbao_faults import openbao_killed, openbao_platform, openbao_sealed
from .runtimes import PrivatePlatform, loaded, private_platform
from .scenarios import Outcome
from .service_faults import (
    conversation_locked,
    operator_killed_mid_provisioning,
    relay_killed_mid_batch,
    relay_platform,
)

Trial = Callable[[StackEnv, int], Awaitable[Outcome]]
Fault = Callable[[StackEnv, PrivatePlatform, Load, asyncpg.Pool], Awaitable[Outcome]]


@contextlib.asynccontextmanager
async def _loaded(stack: StackEnv, platform: PrivatePlatform,
                  conversations: int) -> AsyncIterator[tuple[Load, asyncpg.Pool]]:
    db = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=4)
    try:
        async with loaded(platform, db, conversations) as load:
            yield load, db
    finally:
        await db.close()


def _on_private_platform(fault: Fault) -> Trial:
    async def trial(stack: StackEnv, conversations: int) -> Outcome:
        async with (private_platform(stack) as platform,
                    _loaded(stack, platform, conversations) as (load, db)):
            return await fault(stack, platform, load, db)
    return trial


async def _relay(stack: StackEnv, conversations: int) -> Outcome:
    async with (relay_platform(stack) as (platform, pool),
                _loaded(stack, platform, conversations) as (load, _)):
        return await relay_killed_mid_batch(platform, load, pool)


def _on_openbao_platform(fault: Callable[[PrivatePlatform, Load], Awaitable[Outcome]]) -> Trial:
    async def trial(stack: StackEnv, conversations: int) -> Outcome:
        async with (openbao_platform(stack) as platform,
                    _loaded(stack, platform, conversations) as (load, _)):
            return await fault(platform, load)
    return trial


async def _kafka_paused(stack: StackEnv, conversations: int) -> Outcome:
    async with (private_data_platform(stack) as data,
                loaded(data.platform, data.db, conversations) as load):
        return await kafka_paused(data.platform, load)


async def _operator(stack: StackEnv, platform: PrivatePlatform, load: Load,
                    db: asyncpg.Pool) -> Outcome:
    kubectl = Kubectl(stack["SIMPTU_KUBECTL"], stack.kubeconfig)
    install(kubectl, CRDS, "tenants.simptu.io")
    tenants = Tenants(kubectl, k8s.CustomObjectsApi(
        k8s_config.new_client_from_config(config_file=stack.kubeconfig)))
    with tempfile.TemporaryDirectory(prefix="simptu-faults-operator-") as folder:
        operator = OperatorProcess(stack, Path(folder) / "operator.log")
        try:
            return await operator_killed_mid_provisioning(
                platform, load, stack, db, tenants, operator, f"t{uuid.uuid4().hex[:10]}-opkill")
        finally:
            await operator.stop()
            tenants.delete_all()


async def _keycloak(stack: StackEnv, conversations: int) -> Outcome:
    db = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=2)
    try:
        async with (keycloak_platform(stack, db) as made,
                    _loaded(stack, made.platform, conversations) as (load, _)):
            return await keycloak_killed(made, load)
    finally:
        await db.close()


SERVICE_TRIALS: dict[str, Trial] = {
    "relay": _relay,
    "operator": _on_private_platform(_operator),
    "row-lock": _on_private_platform(
        lambda _stack, platform, load, db: conversation_locked(platform, load, db)),
    "keycloak": _keycloak,
    "openbao-sealed": _on_openbao_platform(openbao_sealed),
    "openbao": _on_openbao_platform(openbao_killed),
    "kafka-paused": _kafka_paused,
}
