"""Settings of the outbox relay process, read from the environment (`SIMPTU_OUTBOX_*`)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class OutboxRelaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SIMPTU_OUTBOX_", extra="ignore")

    # Rows published per transaction; Kafka acknowledges them together.
    batch_size: int = Field(default=500, ge=1, le=10_000)
    # Every tenant is looked at this often when no LISTEN connection is up.
    poll_interval: float = Field(default=2.0, gt=0)
    # ... and this often while one is: a NOTIFY is lost only while that connection is down,
    # and every reconnect sweeps; a sweep costs a transaction per Ready tenant.
    listening_sweep_interval: float = Field(default=30.0, gt=0)
    # Longest wait for Kafka's acknowledgement of one batch.
    publish_timeout: float = Field(default=10.0, gt=0)
    # Tenants drained at the same time by one relay.
    max_concurrent_tenants: int = Field(default=4, ge=1)
    # LISTEN for NOTIFY; off where only a transaction-mode pooler is reachable (polling only).
    listen: bool = True
    # A direct (not pooled) connection for LISTEN; defaults to SIMPTU_DATABASE_URL.
    listen_database_url: SecretStr | None = None
