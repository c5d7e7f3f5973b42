"""The agent worker (`python -m simptu.runtime.agent --all`) as a local process: it answers
every Ready demo tenant's customers (and tenants created later), with the local model, so a
newcomer can chat with each demo tenant offline. Tenants of the tests, which start workers of
their own, are left to those."""

from __future__ import annotations

from simptu.devstack.services.base import Context, PlatformProcess
from simptu.devstack.services.kafka import Kafka

# Slugs the tests and benchmarks give their tenants (`t<hex>-…`, `agt<hex>-…`, `bench-…`).
TEST_TENANTS = "t??????????-*,agt*-*,api*-*,bench-*"


class Agent(PlatformProcess):
    name = "agent"
    # After the API: its catalogues are seeded, and the relay carries the agent's replies.
    needs = ("postgres", "redis", "kafka", "openbao", "operator", "relay", "api")
    module = "simptu.runtime.agent"
    args = ("--all",)

    def url(self, ctx: Context) -> str:
        return f"http://{ctx.settings.host}:{ctx.settings.agent_port}"

    def own_env(self, ctx: Context) -> dict[str, str]:
        return {"SIMPTU_AGENT_PORT": str(ctx.settings.agent_port),
                "SIMPTU_AGENT_HOST": ctx.settings.host,
                "SIMPTU_AGENT_SKIP_TENANTS": TEST_TENANTS,
                **Kafka().login_env(ctx, "simptu-agent")}

    def endpoint(self, ctx: Context) -> str:
        return self.url(ctx)
