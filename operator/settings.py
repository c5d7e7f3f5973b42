"""The operator's settings: the shared ones (`SIMPTU_*`, runtime/core/settings), the Keycloak and
Strimzi systems it provisions (`SIMPTU_KEYCLOAK_*`, `SIMPTU_STRIMZI_*`), and its own
(`SIMPTU_OPERATOR_*`), read once when it starts."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from simptu.runtime.core.settings import CoreSettings


class OperatorSettings(CoreSettings):
    # Keycloak, and its master realm's admin, who creates each tenant's realm.
    keycloak_url: str = "http://127.0.0.1:58080"
    keycloak_admin_user: str = "admin"
    keycloak_admin_password: SecretStr = SecretStr("")
    # Derives each realm's operator-account secret (the admin password when empty); changing it
    # is safe: the operator resets every realm's secret as the master admin on its next pass.
    keycloak_realm_secret_key: SecretStr = SecretStr("")
    # Keycloak admin calls in flight.
    keycloak_max_concurrent: int = 4
    # Topics as Strimzi KafkaTopic resources (when the cluster runs Strimzi) or created directly.
    operator_topics_backend: Literal["kafka", "strimzi"] = "kafka"
    # The Strimzi Kafka cluster the KafkaTopics name, the namespace they go to, and the API
    # version of its resources.
    strimzi_cluster: str = "simptu"
    strimzi_namespace: str = "kafka"
    strimzi_api_version: Literal["v1", "v1beta2"] = "v1"
    # The image of each tenant's agent Deployment.
    operator_agent_image: str = "simptu/agent:0.1.0"
    # Agent pods on the node's network (the local stack, whose services listen on loopback):
    # each tenant's agent then gets a port of its own (workloads.host_port).
    operator_agent_host_network: bool = False
    # Where each tenant's agent connects to Postgres with its own login (a direct address: its
    # checkpointer prepares statements, which a transaction-mode pooler cannot carry); empty:
    # the host, port and database of the operator's own SIMPTU_DATABASE_URL.
    operator_agent_database_address: str = ""
    # An agent's Postgres login is replaced by a new one when older than this (0: only when
    # the Tenant's annotation simptu.io/rotate-database-login changes).
    operator_agent_login_max_age_days: int = 0
    # The operator's own AppRole (the local stack): its policy manages tenants' transit keys,
    # policies and roles. Used instead of SIMPTU_BAO_ROLE_ID/SIMPTU_BAO_SECRET_ID (the
    # runtimes' AppRole, in the same env file) when set.
    operator_bao_role_id: str = ""
    operator_bao_secret_id: SecretStr = SecretStr("")
    # Where the Kubernetes auth method that tenants' agents log in with is mounted, the
    # audience their projected tokens are bound to, and how long a token of theirs lasts
    # (seconds; they log in again before its end).
    operator_agent_bao_auth_mount: str = "kubernetes"
    operator_agent_bao_audience: str = "openbao"
    operator_agent_bao_token_ttl: int = Field(default=600, ge=60, le=86400)
    # Local stack only: password grants on the web client and demo users in every realm.
    operator_demo_realms: bool = False
    # "available": AgentReady waits for ready pods; "declared": for the Deployment to exist
    # (a local stack without its node, SIMPTU_NODE=0: one local worker serves every tenant).
    operator_agent_readiness: Literal["available", "declared"] = "available"
    # How often every tenant is compared with what it should be, and repaired (seconds).
    operator_drift_check_interval: float = 300.0
    # How often the channel senders' new faults (a refused access token) are looked for, to
    # report them in the Tenant's ChannelsReady condition (seconds).
    operator_channel_fault_interval: float = 5.0
    # How often Redis's run id is read: a new one (a restart, a failover) lost every tenant's
    # ACL user, and the operator sets them all again at once (seconds).
    operator_redis_restart_interval: float = 5.0
    # Where /healthz, /readyz and /metrics listen.
    operator_port: int = 8081
    # Among peers the highest priority reconciles; the others pause until it is gone.
    operator_priority: int = 0
    # Tenants reconciled at once: a burst of new Tenants queues here instead of overloading
    # Keycloak, Kafka and Postgres together.
    operator_max_concurrent_reconciles: int = 8
    # Drift checks of settled tenants get lanes of their own, so a burst of new Tenants is
    # never queued behind the periodic checks of hundreds of existing ones.
    operator_max_concurrent_drift_checks: int = 2
    # The validating admission webhook (rules across Tenants): served on this port when set,
    # over TLS; Kopf keeps the ValidatingWebhookConfiguration pointing at it.
    operator_webhook_port: int = 0
    # Where the webhook listens.
    operator_webhook_listen_address: str = "0.0.0.0"  # noqa: S104 - in a pod, behind its Service
    # The name the API server calls; the listen address when unset.
    operator_webhook_host: str | None = None
    # The webhook's certificate and key (PEM files), and the CA that signed them (the
    # caBundle).
    operator_webhook_cert_file: str | None = None
    operator_webhook_key_file: str | None = None
    operator_webhook_ca_file: str | None = None
    # Kopf keeps the ValidatingWebhookConfiguration (tenants.simptu.io) pointing at this
    # operator; false where it is installed with it instead (the Helm chart: a Service in
    # front of the replicas, its caBundle from Helm or cert-manager).
    operator_webhook_managed: bool = True

    @property
    def agent_database_url(self) -> str:
        """The URL agents' logins are put in (its credentials, if any, are replaced)."""
        return self.operator_agent_database_address or self.database_url.get_secret_value()

    @model_validator(mode="after")
    def _own_bao_login(self) -> OperatorSettings:
        """The operator logs in with its own AppRole when it has one (see operator_bao_*)."""
        if self.operator_bao_role_id:
            self.bao_role_id = self.operator_bao_role_id
            self.bao_secret_id = self.operator_bao_secret_id
        return self
