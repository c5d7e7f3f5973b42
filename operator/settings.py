"""The operator's settings: what every runtime reads (Postgres, Redis, Kafka, OpenBao), and
what only the operator needs, from the environment (`SIMPTU_*`)."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr

from simptu.runtime.core.settings import CoreSettings


class OperatorSettings(CoreSettings):
    keycloak_url: str = "http://127.0.0.1:58080"
    keycloak_admin_user: str = "admin"
    keycloak_admin_password: SecretStr = SecretStr("")
    # Derives each realm's operator-account secret (the admin password when empty); changing it
    # is safe: the operator resets every realm's secret as the master admin on its next pass.
    keycloak_realm_secret_key: SecretStr = SecretStr("")
    # Topics as Strimzi KafkaTopic resources (when the cluster runs Strimzi) or created directly.
    topics_backend: Literal["kafka", "strimzi"] = "kafka"
    strimzi_cluster: str = "simptu"
    strimzi_namespace: str = "kafka"
    strimzi_api_version: Literal["v1", "v1beta2"] = "v1"
    agent_image: str = "simptu/agent:0.1.0"
    # Local stack only: password grants on the web client and demo users in every realm.
    demo_realms: bool = False
    # "available": AgentReady waits for ready pods; "declared": for the Deployment to exist
    # (the local stack has no nodes, its agent runs as one local worker for every tenant).
    agent_readiness: Literal["available", "declared"] = "available"
    # How often every tenant is compared with what it should be, and repaired (read by the
    # timer's decorator at import, as SIMPTU_DRIFT_CHECK_INTERVAL).
    drift_check_interval: float = 300.0
    operator_port: int = 8081
    # Tenants reconciled at once, and Keycloak admin calls in flight: a burst of new Tenants
    # queues here instead of overloading Keycloak, Kafka and Postgres together.
    max_concurrent_reconciles: int = 8
    # Drift checks of settled tenants get lanes of their own, so a burst of new Tenants is
    # never queued behind the periodic checks of hundreds of existing ones.
    max_concurrent_drift_checks: int = 2
    keycloak_max_concurrent: int = 4
    # The validating admission webhook (rules across Tenants): served when a port is set, over
    # TLS with this certificate; Kopf keeps the ValidatingWebhookConfiguration pointing at it.
    webhook_port: int = 0
    webhook_listen_address: str = "0.0.0.0"  # noqa: S104 - in a pod, behind its Service
    webhook_host: str | None = None  # the name the API server calls; the listen address if None
    webhook_cert_file: str | None = None
    webhook_key_file: str | None = None
    webhook_ca_file: str | None = None  # the CA that signed the certificate (the caBundle)
