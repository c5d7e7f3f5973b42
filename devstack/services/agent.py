"""The agent worker (`python -m simptu.runtime.agent --all`) as a local process: it answers
every Ready demo tenant's customers (and tenants created later), with the local model, so a
newcomer can chat with each demo tenant offline. Tenants of the tests, which start workers of
their own, are left to those."""

from __future__ import annotations

import sys

from simptu.devstack.envfile import read_env_file
from simptu.devstack.processes import Launch
from simptu.devstack.services.base import Context, Service, expect_http_ok

# Slugs the tests and benchmarks give their tenants (`t<hex>-…`, `agt<hex>-…`, `bench-…`).
TEST_TENANTS = "t??????????-*,agt*-*,api*-*,bench-*"


class Agent(Service):
    name = "agent"
    # After the API: its catalogues are seeded, and the relay carries the agent's replies.
    needs = ("postgres", "redis", "kafka", "openbao", "operator", "relay", "api")

    def url(self, ctx: Context) -> str:
        return f"http://{ctx.settings.host}:{ctx.settings.agent_port}"

    def launch(self, ctx: Context) -> Launch:
        env = read_env_file(ctx.settings.env_file)
        env.update(SIMPTU_AGENT_PORT=str(ctx.settings.agent_port),
                   SIMPTU_AGENT_HOST=ctx.settings.host,
                   SIMPTU_AGENT_SKIP_TENANTS=TEST_TENANTS)
        return Launch(argv=[sys.executable, "-m", "simptu.runtime.agent", "--all"], env=env)

    async def probe(self, ctx: Context) -> None:
        await expect_http_ok(f"{self.url(ctx)}/readyz")

    def endpoint(self, ctx: Context) -> str:
        return self.url(ctx)
