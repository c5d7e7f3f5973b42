"""The stand-in of Twilio's REST API (`python -m simptu.devstack.standins.twilio_api`) as a local
process: the SMS sender reaches it at SIMPTU_TWILIO_API_URL, it knows every demo tenant's
Twilio account (sid, auth token, numbers, Messaging Service) and posts the status callbacks
each message asks for."""

from __future__ import annotations

import sys

import httpx

from simptu.devstack.demo_channels import demo_twilio_accounts
from simptu.devstack.processes import Launch
from simptu.devstack.services.base import Context, NotReady, Service, expect_http_ok


class TwilioApi(Service):
    name = "twilio-api"

    def url(self, ctx: Context) -> str:
        return f"http://{ctx.settings.host}:{ctx.settings.twilio_api_port}"

    def launch(self, ctx: Context) -> Launch:
        return Launch(argv=[sys.executable, "-m", "simptu.devstack.standins.twilio_api",
                            "--host", ctx.settings.host,
                            "--port", str(ctx.settings.twilio_api_port)])

    async def probe(self, ctx: Context) -> None:
        await expect_http_ok(f"{self.url(ctx)}/_standin/healthz")

    async def configure(self, ctx: Context) -> None:
        """Register the demo tenants' Twilio accounts; again on every `make up`, so an edited
        example takes effect without a restart."""
        accounts = [{"account_sid": found.account_sid, "auth_token": found.auth_token,
                     "numbers": list(found.phone_numbers),
                     "messaging_service_sids": [found.messaging_service_sid]
                     if found.messaging_service_sid else []}
                    for found in demo_twilio_accounts()]
        async with httpx.AsyncClient(timeout=5) as client:
            answer = await client.post(f"{self.url(ctx)}/_standin/accounts", json=accounts)
        if answer.status_code != 200:
            raise NotReady(f"registering the demo Twilio accounts: {answer.status_code} "
                           f"{answer.text}")

    def env(self, ctx: Context) -> dict[str, str]:
        return {"SIMPTU_TWILIO_API_URL": self.url(ctx)}

    def endpoint(self, ctx: Context) -> str:
        return self.url(ctx)

    def hint(self, ctx: Context) -> str:
        return (f"Twilio REST API stand-in: {self.url(ctx)}. A customer's SMS, signed as "
                "Twilio would post it to the API, then the reply the clinic texted back:\n"
                "  .venv/bin/python -m simptu.devstack.twilio_webhook sms "
                "--tenant zambet-dental-cluj --from +40722123456 --wait 60 "
                "'Bună ziua, aveți loc mâine?'\n"
                f"  curl -s '{self.url(ctx)}/_standin/calls?to=%2B40722123456'")
