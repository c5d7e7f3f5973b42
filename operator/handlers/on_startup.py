"""Operator-wide settings and the clients every handler uses, made once at start-up."""

from __future__ import annotations

import logging
from typing import Any

import kopf

from simptu.operator.health import start_health_server
from simptu.operator.platform import Platform
from simptu.operator.settings import OperatorSettings


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    """In a pod: its service account; elsewhere: $KUBECONFIG as it is when the operator starts."""
    return kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(**kwargs)


@kopf.on.startup()
async def start(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    settings.persistence.finalizer = "simptu.io/finalizer"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="simptu.io")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix="simptu.io", key="last-handled-configuration")
    settings.posting.level = logging.INFO
    settings.queueing.error_delays = [1, 2, 5, 10, 20, 30, 60]
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    operator_settings = OperatorSettings()  # type: ignore[call-arg]  # from the environment
    _serve_admission(settings, operator_settings)
    platform = await Platform.connect(operator_settings)
    memo.platform = platform
    memo.phases = {}

    async def ready() -> bool:
        return bool(await platform.pool.fetchval("SELECT 1"))

    memo.health = await start_health_server("0.0.0.0", operator_settings.operator_port,  # noqa: S104
                                            ready)


@kopf.on.cleanup()
async def stop(memo: kopf.Memo, **_: Any) -> None:
    await memo.health.cleanup()
    await memo.platform.close()


WEBHOOK_CONFIGURATION = "tenants.simptu.io"


def _serve_admission(settings: kopf.OperatorSettings, ours: OperatorSettings) -> None:
    if not ours.webhook_port:
        return
    settings.admission.server = kopf.WebhookServer(
        addr=ours.webhook_listen_address, port=ours.webhook_port, host=ours.webhook_host,
        certfile=ours.webhook_cert_file, pkeyfile=ours.webhook_key_file,
        cafile=ours.webhook_ca_file)
    settings.admission.managed = WEBHOOK_CONFIGURATION
