"""Clients of every system the operator provisions, made once at start-up (kopf's memo)."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

import asyncpg
import hvac
import redis.asyncio as aioredis
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from simptu.operator.kafka import TopicBackend
from simptu.operator.keycloak import KeycloakAdmin
from simptu.operator.kube_objects import KubeObjects
from simptu.operator.settings import OperatorSettings
from simptu.runtime.core.crypto import OpenBaoTransit
from simptu.runtime.core.database import create_pool
from simptu.runtime.core.migrations import migrate_platform
from simptu.runtime.core.redis_client import connect_redis


@dataclass
class Platform:
    settings: OperatorSettings
    pool: asyncpg.Pool
    redis: aioredis.Redis
    keystore: OpenBaoTransit
    bao: hvac.Client
    keycloak: KeycloakAdmin
    kube: k8s.ApiClient
    objects: KubeObjects
    topics: TopicBackend
    reconciling: asyncio.Semaphore
    drift_checking: asyncio.Semaphore

    @classmethod
    async def connect(cls, settings: OperatorSettings) -> Platform:
        pool = await create_pool(settings)
        async with pool.acquire() as conn:
            await migrate_platform(conn)  # the registry exists before the first tenant
        token = settings.bao_token.get_secret_value()
        kube = _kube_client()
        return cls(
            settings=settings, pool=pool,
            redis=connect_redis(settings.redis_url.get_secret_value()),
            keystore=OpenBaoTransit.from_settings(settings),
            bao=hvac.Client(url=settings.bao_addr, token=token, timeout=10),
            keycloak=KeycloakAdmin(settings.keycloak_url, settings.keycloak_admin_user,
                                   settings.keycloak_admin_password.get_secret_value(),
                                   settings.keycloak_realm_secret_key.get_secret_value(),
                                   max_concurrent=settings.keycloak_max_concurrent),
            kube=kube, objects=await KubeObjects.connect(kube),
            topics=TopicBackend(bootstrap=settings.kafka_bootstrap, kind=settings.topics_backend,
                                strimzi_cluster=settings.strimzi_cluster,
                                strimzi_namespace=settings.strimzi_namespace,
                                strimzi_api_version=settings.strimzi_api_version),
            reconciling=asyncio.Semaphore(settings.max_concurrent_reconciles),
            drift_checking=asyncio.Semaphore(settings.max_concurrent_drift_checks),
        )

    async def close(self) -> None:
        await self.pool.close()
        await self.redis.aclose()
        await self.keycloak.aclose()
        self.kube.close()


def _kube_client() -> k8s.ApiClient:
    """In a pod: its service account; elsewhere: $KUBECONFIG (the local stack's admin)."""
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        configuration = k8s.Configuration()
        k8s_config.load_incluster_config(client_configuration=configuration)
        return k8s.ApiClient(configuration)
    client: k8s.ApiClient = k8s_config.new_client_from_config(
        config_file=os.environ.get("KUBECONFIG"))
    return client
