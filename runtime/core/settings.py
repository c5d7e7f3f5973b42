"""Settings every process shares (`SIMPTU_*`), the base of each component's own settings model
(`SIMPTU_<COMPONENT>_*`: the API's, the hub's, the agent's, the relay's, the operator's). A
process reads its model once when it starts and passes it down; nothing reads the environment
at import. README.md's settings table is made from these models (devstack/settings_table.py).

`eval "$(make -s env)"` sets all of them for the local stack.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from simptu.runtime.core.kafka_access import KafkaAccess, Mechanism

MIN_SECRET_BYTES = 32  # HS256 wants a key at least as long as its hash


class CoreSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SIMPTU_", extra="ignore")

    # Postgres (asyncpg DSN): the platform's login, which becomes each tenant's role per
    # transaction.
    database_url: SecretStr
    # asyncpg's prepared-statement cache; 0 behind a transaction-mode pooler such as PgBouncer.
    database_statement_cache_size: int = 100
    # Connections of the process's pool, at least and at most.
    database_pool_min: int = 1
    database_pool_max: int = 10
    # Redis (`redis://...`): registry cache, rate limits, cached pages, pub/sub.
    redis_url: SecretStr
    # Kafka brokers (host:port, comma-separated).
    kafka_bootstrap: str = "127.0.0.1:59092"
    # The SASL login on a broker with SCRAM listeners (mechanism empty: plaintext, no login):
    # each runtime its own user, each tenant's agent its tenant's (the Secret `agent-kafka`).
    kafka_sasl_mechanism: Mechanism = ""
    kafka_username: str = ""
    kafka_password: SecretStr = SecretStr("")
    # OpenBao (or Vault): its address, and where the transit engine is mounted.
    bao_addr: str = "http://127.0.0.1:58200"
    transit_mount: str = "transit"
    # How the process logs in to OpenBao: "kubernetes" (a pod's projected ServiceAccount token,
    # bao_jwt_file, for role bao_role: tenants' agents, the chart's runtimes), "approle"
    # (bao_role_id and bao_secret_id: the local stack's runtimes) or "token" (bao_token as is:
    # tools and tests). Tokens got by logging in are renewed by logging in again.
    bao_auth: Literal["token", "approle", "kubernetes"] = "token"
    # Where that auth method is mounted in OpenBao (the method's own name when empty).
    bao_auth_mount: str = ""
    # The Kubernetes auth role to log in as.
    bao_role: str = ""
    # The projected ServiceAccount token (audience `openbao`), read again at every login: the
    # kubelet replaces it before it expires.
    bao_jwt_file: str = "/var/run/secrets/openbao/token"
    # The AppRole's role id and secret id.
    bao_role_id: str = ""
    bao_secret_id: SecretStr = SecretStr("")
    # A token used as it is (bao_auth "token"): never the root token in a runtime.
    bao_token: SecretStr = SecretStr("")
    # The platform's public base URL as providers call it (https://api.example.com): Twilio
    # signs the URL it called, so webhooks are checked against this, never the internal URL;
    # status callbacks are given under it.
    public_base_url: str = ""
    # How long a process keeps a tenant's channel credentials before reading them again (a
    # rotated Secret takes effect within it; at once where a signature check fails).
    channel_credentials_ttl: float = Field(default=30.0, ge=0, le=3600)
    # Seconds a tenant's registry record stays cached in Redis.
    registry_cache_ttl: int = 60
    # Seconds a runtime keeps a registry record in process memory: how late it may see a
    # tenant's change (status, issuer, origins); 0 reads Redis on every lookup.
    registry_memory_ttl: float = Field(default=5.0, ge=0, le=60)
    # The longest message anyone may post to a conversation (characters), on every transport.
    chat_max_text_chars: int = Field(default=4000, ge=1)
    # Seconds the sentence-embedding model (~100 MB) may stay unused before it is dropped and
    # its memory given back; it loads again (~0.3 s) when next needed. 0 keeps it loaded.
    embedding_idle_unload: float = Field(default=600.0, ge=0)

    @property
    def kafka(self) -> KafkaAccess:
        """How this process reaches Kafka: every client it builds uses this."""
        return KafkaAccess(self.kafka_bootstrap, self.kafka_sasl_mechanism, self.kafka_username,
                           self.kafka_password.get_secret_value())


class EdgeSettings(CoreSettings):
    """What the processes clients reach, the API and the WS hub, share: the tokens they take."""

    # Signs guest and access-code tokens (the API) and verifies them (the API and the hub).
    guest_token_secret: SecretStr = Field(min_length=MIN_SECRET_BYTES)
    # The audience every realm's clients put in access tokens (an audience mapper).
    token_audience: str = "simptu-api"  # noqa: S105 - a name, not a secret
