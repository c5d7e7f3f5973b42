"""The stand-in of Meta's Graph API (`python -m simptu.devstack.standins.meta_graph`) as a local
process: the senders reach it at SIMPTU_META_GRAPH_URL, it knows every demo tenant's WhatsApp,
Messenger and Instagram ids and tokens, and posts WhatsApp status webhooks to the API."""

from __future__ import annotations

from typing import Any

from simptu.devstack.demo_channels import demo_channels
from simptu.devstack.services.base import Context
from simptu.devstack.services.standins import SaasStandin


class MetaGraph(SaasStandin):
    name = "meta-graph"
    module = "meta_graph"
    control = "objects"

    def port(self, ctx: Context) -> int:
        return ctx.settings.meta_graph_port

    def webhook_url(self, ctx: Context) -> str:
        return f"http://{ctx.settings.host}:{ctx.settings.api_port}/v1/webhooks/meta"

    def extra_args(self, ctx: Context) -> list[str]:
        return ["--webhook-url", self.webhook_url(ctx)]

    def demo_accounts(self) -> list[dict[str, Any]]:
        return [{"object_id": found.object_id, "kind": found.channel,
                 "access_token": found.access_token, "app_secret": found.app_secret,
                 **({"display_phone_number": found.display_phone_number}
                    if found.display_phone_number else {})}
                for found in demo_channels()]

    def env(self, ctx: Context) -> dict[str, str]:
        return {"SIMPTU_META_GRAPH_URL": self.url(ctx)}

    def hint(self, ctx: Context) -> str:
        return (f"Meta Graph API stand-in: {self.url(ctx)}. A customer's WhatsApp message, "
                "signed as Meta would post it to the API, then what was sent back:\n"
                "  .venv/bin/python -m simptu.devstack.meta_webhook whatsapp "
                "--tenant zambet-dental-cluj --from 40722123456 'Bună ziua, aveți loc mâine?'\n"
                f"  curl -s '{self.url(ctx)}/_standin/calls?recipient=40722123456'")
