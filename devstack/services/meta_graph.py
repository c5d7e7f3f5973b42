"""The stand-in of Meta's Graph API (`python -m simptu.devstack.standins.meta_graph`) as a local
process: the senders reach it at SIMPTU_META_GRAPH_URL, it knows every demo tenant's WhatsApp,
Messenger and Instagram ids and tokens, and posts WhatsApp status webhooks to the API."""

from __future__ import annotations

import sys

import httpx

from simptu.devstack.demo_channels import demo_channels
from simptu.devstack.processes import Launch
from simptu.devstack.services.base import Context, NotReady, Service, expect_http_ok


class MetaGraph(Service):
    name = "meta-graph"

    def url(self, ctx: Context) -> str:
        return f"http://{ctx.settings.host}:{ctx.settings.meta_graph_port}"

    def webhook_url(self, ctx: Context) -> str:
        return f"http://{ctx.settings.host}:{ctx.settings.api_port}/v1/webhooks/meta"

    def launch(self, ctx: Context) -> Launch:
        return Launch(argv=[sys.executable, "-m", "simptu.devstack.standins.meta_graph",
                            "--host", ctx.settings.host,
                            "--port", str(ctx.settings.meta_graph_port),
                            "--webhook-url", self.webhook_url(ctx)])

    async def probe(self, ctx: Context) -> None:
        await expect_http_ok(f"{self.url(ctx)}/_standin/healthz")

    async def configure(self, ctx: Context) -> None:
        """Register the demo tenants' channels; again on every `make up`, so an edited
        example takes effect without a restart."""
        objects = [{"object_id": found.object_id, "kind": found.channel,
                    "access_token": found.access_token, "app_secret": found.app_secret,
                    **({"display_phone_number": found.display_phone_number}
                       if found.display_phone_number else {})}
                   for found in demo_channels()]
        async with httpx.AsyncClient(timeout=5) as client:
            answer = await client.post(f"{self.url(ctx)}/_standin/objects", json=objects)
        if answer.status_code != 200:
            raise NotReady(f"registering the demo channels: {answer.status_code} {answer.text}")

    def env(self, ctx: Context) -> dict[str, str]:
        return {"SIMPTU_META_GRAPH_URL": self.url(ctx)}

    def endpoint(self, ctx: Context) -> str:
        return self.url(ctx)

    def hint(self, ctx: Context) -> str:
        return (f"Meta Graph API stand-in: {self.url(ctx)}. A customer's WhatsApp message, "
                "signed as Meta would post it to the API, then what was sent back:\n"
                "  .venv/bin/python -m simptu.devstack.meta_webhook whatsapp "
                "--tenant zambet-dental-cluj --from 40722123456 'Bună ziua, aveți loc mâine?'\n"
                f"  curl -s '{self.url(ctx)}/_standin/calls?recipient=40722123456'")
