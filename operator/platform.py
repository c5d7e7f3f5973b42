"""Clients of every system the operator provisions, made once at start-up (kopf's memo): the core
every process shares (runtime/core/wiring, without a Kafka producer: the operator publishes
nothing, and starts while Kafka is down), OpenBao's admin client, Keycloak's admin API, the
Kubernetes API and the topic backend."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from kubernetes import client as k8s
from kubernetes import config as k8s_config

from simptu.operator.kafka import TopicBackend
from simptu.operator.keycloak import KeycloakAdmin
from simptu.operator.kube_objects import KubeObjects
from simptu.operator.settings import OperatorSettings
from simptu.operator.vault import BaoAdmin
from simptu.runtime.core.channels.routing import RegistryIndex
from simptu.runtime.core.crypto import BaoLogin, BaoSession
from simptu.runtime.core.migrations import migrate_platform
from simptu.runtime.core.wiring import Core, open_core


@dataclass(frozen=True)
class Platform(Core):
    settings: OperatorSettings
    bao: BaoAdmin
    keycloak: KeycloakAdmin
    kube: k8s.ApiClient
    objects: KubeObjects
    topics: TopicBackend
    registry_index: RegistryIndex
    reconciling: asyncio.Semaphore
    drift_checking: asyncio.Semaphore


@asynccontextmanager
async def open_platform(settings: OperatorSettings) -> AsyncIterator[Platform]:
    """Open every client; close them in reverse order when the block ends."""
    async with AsyncExitStack() as stack:
        core = await stack.enter_async_context(
            open_core(settings, client_id="simptu-operator", publishes=False))
        async with core.pool.acquire() as conn:
            await migrate_platform(conn)  # the registry exists before the first tenant
        keycloak = KeycloakAdmin(settings.keycloak_url, settings.keycloak_admin_user,
                                 settings.keycloak_admin_password.get_secret_value(),
                                 settings.keycloak_realm_secret_key.get_secret_value(),
                                 max_concurrent=settings.keycloak_max_concurrent)
        stack.push_async_callback(keycloak.aclose)
        kube = _kube_client()
        stack.callback(kube.close)
        yield Platform(
            **core.parts(), settings=settings,
            bao=await stack.enter_async_context(_bao_admin(settings)),
            keycloak=keycloak, kube=kube, objects=await KubeObjects.connect(kube),
            topics=TopicBackend(kafka=settings.kafka,
                                kind=settings.operator_topics_backend,
                                strimzi_cluster=settings.strimzi_cluster,
                                strimzi_namespace=settings.strimzi_namespace,
                                strimzi_api_version=settings.strimzi_api_version),
            registry_index=RegistryIndex(core.keystore, creates_key=True),
            reconciling=asyncio.Semaphore(settings.operator_max_concurrent_reconciles),
            drift_checking=asyncio.Semaphore(settings.operator_max_concurrent_drift_checks))


@asynccontextmanager
async def _bao_admin(settings: OperatorSettings) -> AsyncIterator[BaoAdmin]:
    """The operator's own OpenBao login (never the root token), kept fresh while it runs."""
    session = BaoSession(settings.bao_addr, BaoLogin.from_settings(settings), timeout=10)
    async with session.kept_fresh():
        yield BaoAdmin(session, auth_mount=settings.operator_agent_bao_auth_mount,
                       audience=settings.operator_agent_bao_audience,
                       token_ttl=settings.operator_agent_bao_token_ttl)


def in_cluster_configuration() -> k8s.Configuration | None:
    """In a pod: its service account and the API server's address as the kubelet gives it
    (KUBERNETES_SERVICE_HOST/PORT, client-go's convention); elsewhere None."""
    # Kubernetes' own variables, read by its client's conventions when the operator starts.
    if not os.environ.get("KUBERNETES_SERVICE_HOST"):
        return None
    configuration = k8s.Configuration()
    k8s_config.load_incluster_config(client_configuration=configuration)
    return configuration


def _kube_client() -> k8s.ApiClient:
    """In a pod: its service account; elsewhere: $KUBECONFIG (the local stack's admin)."""
    configuration = in_cluster_configuration()
    if configuration is not None:
        return k8s.ApiClient(configuration)
    client: k8s.ApiClient = k8s_config.new_client_from_config(
        config_file=os.environ.get("KUBECONFIG"))
    return client
