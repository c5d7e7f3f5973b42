"""The stand-in of Twilio's REST API (`python -m simptu.devstack.standins.twilio_api`) as a local
process: the SMS sender reaches it at SIMPTU_TWILIO_API_URL, it knows every demo tenant's
Twilio account (sid, auth token, numbers, Messaging Service) and posts the status callbacks
each message asks for."""

from __future__ import annotations

from typing import Any

from simptu.devstack.demo_channels import demo_twilio_accounts
from simptu.devstack.services.base import Context
from simptu.devstack.services.standins import SaasStandin


class TwilioApi(SaasStandin):
    name = "twilio-api"
    module = "twilio_api"
    control = "accounts"

    def port(self, ctx: Context) -> int:
        return ctx.settings.twilio_api_port

    def demo_accounts(self) -> list[dict[str, Any]]:
        return [{"account_sid": found.account_sid, "auth_token": found.auth_token,
                 "numbers": list(found.phone_numbers),
                 "messaging_service_sids": [found.messaging_service_sid]
                 if found.messaging_service_sid else []}
                for found in demo_twilio_accounts()]

    def env(self, ctx: Context) -> dict[str, str]:
        return {"SIMPTU_TWILIO_API_URL": self.url(ctx)}

    def hint(self, ctx: Context) -> str:
        return (f"Twilio REST API stand-in: {self.url(ctx)}. A customer's SMS, signed as "
                "Twilio would post it to the API, then the reply the clinic texted back:\n"
                "  .venv/bin/python -m simptu.devstack.twilio_webhook sms "
                "--tenant zambet-dental-cluj --from +40722123456 --wait 60 "
                "'Bună ziua, aveți loc mâine?'\n"
                f"  curl -s '{self.url(ctx)}/_standin/calls?to=%2B40722123456'")
