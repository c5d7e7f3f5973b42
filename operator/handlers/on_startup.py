"""Operator-wide settings and the clients every handler uses, made once at start-up."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from contextlib import AsyncExitStack
from typing import Any

import kopf

from simptu.operator import channel_faults, redis_restarts
from simptu.operator.handlers import on_admission, on_change
from simptu.operator.handlers.resource import KOPF_PREFIX
from simptu.operator.health import start_health_server
from simptu.operator.platform import in_cluster_configuration, open_platform
from simptu.operator.settings import OperatorSettings
from simptu.runtime.core import background

# Handlers registered from settings, once per process (Kopf's registry is the process's).
_registered_from_settings: list[bool] = []


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    """In a pod: its service account; elsewhere: $KUBECONFIG as it is when the operator starts."""
    in_pod = kopf.login_with_service_account(**kwargs)
    if in_pod is None:
        return kopf.login_with_kubeconfig(**kwargs)
    # Kopf's service-account login asks the cluster's DNS for kubernetes.default.svc; a cluster
    # without that DNS (the local stack's node) cannot answer, so the address is the kubelet's,
    # as the operator's own client has it.
    configuration = in_cluster_configuration()
    return in_pod if configuration is None else dataclasses.replace(in_pod,
                                                                     server=configuration.host)


@kopf.on.startup()
async def start(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    settings.persistence.finalizer = "simptu.io/finalizer"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=KOPF_PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=KOPF_PREFIX, key="last-handled-configuration")
    settings.posting.level = logging.INFO
    settings.queueing.error_delays = [1, 2, 5, 10, 20, 30, 60]
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    # `python -m simptu.operator` read them when it started; `kopf run` leaves it to us.
    operator_settings = memo.get("settings") or OperatorSettings()  # type: ignore[call-arg]
    _register(operator_settings)
    _serve_admission(settings, operator_settings)
    memo.closing = AsyncExitStack()
    platform = await memo.closing.enter_async_context(open_platform(operator_settings))
    memo.platform = platform
    memo.phases = {}
    faults = asyncio.create_task(channel_faults.watch(
        platform.pool, lambda slug: on_change.converge_named(memo, slug),
        operator_settings.operator_channel_fault_interval))
    memo.closing.push_async_callback(background.stop, faults)
    restarts = asyncio.create_task(redis_restarts.watch(
        platform.redis, platform.pool, lambda slug: on_change.converge_named(memo, slug),
        operator_settings.operator_redis_restart_interval))
    memo.closing.push_async_callback(background.stop, restarts)

    async def ready() -> bool:
        return bool(await platform.pool.fetchval("SELECT 1"))

    memo.health = await start_health_server("0.0.0.0", operator_settings.operator_port,  # noqa: S104
                                            ready)


@kopf.on.cleanup()
async def stop(memo: kopf.Memo, **_: Any) -> None:
    await memo.health.cleanup()
    await memo.closing.aclose()


def _register(ours: OperatorSettings) -> None:
    if _registered_from_settings:
        return
    _registered_from_settings.append(True)
    on_change.register_drift_timer(ours.operator_drift_check_interval)
    if ours.operator_webhook_port:
        # Kopf refuses to run with admission handlers and no server.
        on_admission.register()


WEBHOOK_CONFIGURATION = "tenants.simptu.io"


def _serve_admission(settings: kopf.OperatorSettings, ours: OperatorSettings) -> None:
    if not ours.operator_webhook_port:
        return
    settings.admission.server = kopf.WebhookServer(
        addr=ours.operator_webhook_listen_address, port=ours.operator_webhook_port,
        host=ours.operator_webhook_host, certfile=ours.operator_webhook_cert_file,
        pkeyfile=ours.operator_webhook_key_file, cafile=ours.operator_webhook_ca_file)
    if ours.operator_webhook_managed:
        settings.admission.managed = WEBHOOK_CONFIGURATION
