"""What the stand-ins of SaaS providers (Meta's Graph API, Twilio, Booking.com) share as
services of the local stack: a process of `simptu.devstack.standins.<module>` on its own port,
healthy when `/_standin/healthz` answers, and told the demo tenants' accounts on every
`make up` (so an edited example takes effect without a restart)."""

from __future__ import annotations

import sys
from abc import abstractmethod
from typing import Any

import httpx

from simptu.devstack.processes import Launch
from simptu.devstack.services.base import Context, NotReady, Service, expect_http_ok


class SaasStandin(Service):
    module: str  # under simptu.devstack.standins
    control: str  # the /_standin/ endpoint that registers the demo tenants' accounts

    @abstractmethod
    def port(self, ctx: Context) -> int: ...

    @abstractmethod
    def demo_accounts(self) -> list[dict[str, Any]]:
        """The demo tenants' accounts, as the control endpoint takes them."""

    def url(self, ctx: Context) -> str:
        return f"http://{ctx.settings.host}:{self.port(ctx)}"

    def extra_args(self, ctx: Context) -> list[str]:
        return []

    def launch(self, ctx: Context) -> Launch:
        return Launch(argv=[sys.executable, "-m", f"simptu.devstack.standins.{self.module}",
                            "--host", ctx.settings.host, "--port", str(self.port(ctx)),
                            *self.extra_args(ctx)])

    async def probe(self, ctx: Context) -> None:
        await expect_http_ok(f"{self.url(ctx)}/_standin/healthz")

    async def configure(self, ctx: Context) -> None:
        async with httpx.AsyncClient(timeout=5) as client:
            answer = await client.post(f"{self.url(ctx)}/_standin/{self.control}",
                                       json=self.demo_accounts())
        if answer.status_code != 200:
            raise NotReady(f"registering the demo tenants' {self.control}: "
                           f"{answer.status_code} {answer.text}")

    def endpoint(self, ctx: Context) -> str:
        return self.url(ctx)
