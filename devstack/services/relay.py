"""The outbox relay (`python -m simptu.runtime.core.events relay`) as a local process: it
publishes what the API, the WS hub and the agent wrote to their tenants' outboxes, woken by
NOTIFY over a direct (not pooled) connection; the fault tests' tenants are left to their own."""

from __future__ import annotations

import sys

from simptu.devstack.envfile import platform_env
from simptu.devstack.processes import Launch
from simptu.devstack.services.base import (
    Context,
    Service,
    expect_http_ok,
    kafka_mode_key,
)
from simptu.devstack.services.kafka import Kafka

# The fault tests' tenants (`t<hex>-faults`): their private platform runs a relay of its own,
# which they kill (tests/faults/runtimes.py).
FAULT_TENANTS = "*-faults"


class OutboxRelay(Service):
    name = "relay"
    needs = ("postgres", "kafka", "operator")

    def metrics_url(self, ctx: Context) -> str:
        return f"http://{ctx.settings.host}:{ctx.settings.relay_metrics_port}/metrics"

    def launch(self, ctx: Context) -> Launch:
        env = platform_env(ctx.settings.env_file) | Kafka().login_env(ctx, "simptu-relay")
        # Low latency for live chat: a NOTIFY wakes it; polling is only the fallback.
        env.setdefault("SIMPTU_OUTBOX_POLL_INTERVAL", "1.0")
        env.setdefault("SIMPTU_OUTBOX_SKIP_TENANTS", FAULT_TENANTS)
        return Launch(argv=[sys.executable, "-m", "simptu.runtime.core.events", "relay",
                            "--metrics-port", str(ctx.settings.relay_metrics_port)], env=env)

    def settings_key(self, ctx: Context) -> str:
        return kafka_mode_key(ctx)

    async def probe(self, ctx: Context) -> None:
        await expect_http_ok(self.metrics_url(ctx))

    def endpoint(self, ctx: Context) -> str:
        return self.metrics_url(ctx)
