"""Settings of the outbox relay process: the shared ones (`SIMPTU_*`, runtime/core/settings) and
its own (`SIMPTU_OUTBOX_*`), read once when it starts."""

from __future__ import annotations

from pydantic import Field, SecretStr

from simptu.runtime.core.settings import CoreSettings


class OutboxRelaySettings(CoreSettings):
    # Rows published per transaction; Kafka acknowledges them together.
    outbox_batch_size: int = Field(default=500, ge=1, le=10_000)
    # Every tenant is looked at this often when no LISTEN connection is up.
    outbox_poll_interval: float = Field(default=2.0, gt=0)
    # ... and this often while one is: a NOTIFY is lost only while that connection is down,
    # and every reconnect sweeps; a sweep costs a transaction per Ready tenant.
    outbox_listening_sweep_interval: float = Field(default=30.0, gt=0)
    # Longest wait for Kafka's acknowledgement of one batch.
    outbox_publish_timeout: float = Field(default=10.0, gt=0)
    # Tenants drained at the same time by one relay.
    outbox_max_concurrent_tenants: int = Field(default=4, ge=1)
    # Which tenants (shell patterns of slugs, comma-separated), and which of those to leave to
    # relays of their own (e.g. the fault tests' tenants, whose private platform runs one).
    outbox_tenants: str = "*"
    outbox_skip_tenants: str = ""
    # LISTEN for NOTIFY; off where only a transaction-mode pooler is reachable (polling only).
    outbox_listen: bool = True
    # A direct (not pooled) connection for LISTEN; defaults to SIMPTU_DATABASE_URL.
    outbox_listen_database_url: SecretStr | None = None

    def listen_dsn(self) -> str | None:
        """Where the relay LISTENs for NOTIFY; None: it polls only."""
        if not self.outbox_listen:
            return None
        return (self.outbox_listen_database_url or self.database_url).get_secret_value()
