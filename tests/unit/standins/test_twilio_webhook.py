"""The demo tenants' Twilio credentials are deterministic, the payloads are Twilio's, and
`twilio_webhook` signs what it posts as Twilio does (over the public URL, every parameter),
follows a call's TwiML (Gather actions, Redirects) and shows the reply texted back."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from simptu.devstack.demo_channels import (
    demo_twilio_account,
    demo_twilio_accounts,
    demo_twilio_secret,
)
from simptu.devstack.standins.standin import serving
from simptu.devstack.standins.twilio_api import TwilioAccount, serve
from simptu.devstack.standins.twilio_payloads import (
    call_status,
    gather_result,
    inbound_sms,
    parse_form,
)
from simptu.devstack.twilio_webhook import main

CLINIC = "zambet-dental-cluj"
CUSTOMER = "+40722123456"


def test_demo_twilio_secrets_are_derived_from_the_slug() -> None:
    secret = demo_twilio_secret(CLINIC)
    digest = hashlib.sha256(f"simptu-demo-twilio:{CLINIC}".encode()).hexdigest()

    assert secret == {"accountSid": "AC" + digest[:32],
                      "authToken": f"demo-{CLINIC}-twilio-token"}
    assert demo_twilio_secret("pulse-fitness-timisoara")["accountSid"] != secret["accountSid"]


def test_the_demo_twilio_accounts_are_the_examples_numbers() -> None:
    clinic = demo_twilio_account(CLINIC)
    assert clinic.phone_numbers[0] == "+40364100200"
    assert clinic.account_sid == demo_twilio_secret(CLINIC)["accountSid"]
    numbers = [n for account in demo_twilio_accounts() for n in account.phone_numbers]
    assert len(set(numbers)) == len(numbers)  # no number claimed twice
    with pytest.raises(LookupError, match=CLINIC):
        demo_twilio_account("hotel-carpati-brasov-not")


def test_payloads_follow_twilios_parameters() -> None:
    sms = inbound_sms("AC1", CUSTOMER, "+40364100200", "Mulțumesc!",
                      messaging_service_sid="MG1", media=[("https://m/1", "image/jpeg")])
    turn = gather_result("AC1", "CA1", CUSTOMER, "+40364100200", "da", confidence=0.5)
    ended = call_status("AC1", "CA1", CUSTOMER, "+40364100200", duration=61)

    assert sms["MessageSid"] == sms["SmsSid"]
    assert sms["MessageSid"].startswith("MM")
    assert (sms["NumMedia"], sms["MediaUrl0"], sms["MessagingServiceSid"]) == (
        "1", "https://m/1", "MG1")
    assert (turn["SpeechResult"], turn["Confidence"], turn["CallStatus"]) == (
        "da", "0.5", "in-progress")
    assert (ended["CallStatus"], ended["CallDuration"], ended["Duration"]) == (
        "completed", "61", "2")


def test_a_dry_run_is_signed_over_the_public_url_and_every_parameter() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "simptu.devstack.twilio_webhook", "--dry-run",
         "--public-base-url", "https://api.clinic.example", "sms", "--tenant", CLINIC,
         "--from", CUSTOMER, "Bună ziua, aveți loc mâine? 🦷"],
        capture_output=True, text=True, check=True).stdout
    head, body = printed.split("\n\n", 1)
    params = parse_form(body.strip().encode())
    signature = head.split("X-Twilio-Signature: ")[1].splitlines()[0]
    validator = RequestValidator(demo_twilio_account(CLINIC).auth_token)

    assert head.startswith("POST http://127.0.0.1:3003/v1/webhooks/twilio/sms")
    assert params["Body"] == "Bună ziua, aveți loc mâine? 🦷"
    assert (params["From"], params["To"]) == (CUSTOMER, "+40364100200")
    assert validator.validate("https://api.clinic.example/v1/webhooks/twilio/sms", params,
                              signature)
    assert not validator.validate("http://127.0.0.1:3003/v1/webhooks/twilio/sms", params,
                                  signature)
    assert not validator.validate("https://api.clinic.example/v1/webhooks/twilio/sms",
                                  {**params, "Body": "Bună"}, signature)


@dataclass
class FakeApi:
    """The API's Twilio webhooks as a script: it checks every signature as the real one
    must, keeps what it was posted, and texts a reply through the Twilio stand-in."""

    token: str
    twilio_url: str = ""
    posted: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    replies: set[asyncio.Task[None]] = field(default_factory=set)

    async def receive(self, request: Request) -> Response:
        params = parse_form(await request.body())
        signature = request.headers.get("x-twilio-signature", "")
        if not RequestValidator(self.token).validate(str(request.url), params, signature):
            return Response(status_code=403)
        query = f"?{request.url.query}" if request.url.query else ""
        self.posted.append((request.url.path + query, params))
        return Response(self.twiml(request, params), media_type="application/xml")

    def twiml(self, request: Request, params: dict[str, str]) -> str:
        gather = ('<Gather input="speech" action="/v1/webhooks/twilio/voice/turn?turn={}">'
                  '<Say>Vă ascult</Say></Gather>')
        match request.url.path:
            case "/v1/webhooks/twilio/voice":
                return f"<Response>{gather.format(1)}</Response>"
            case "/v1/webhooks/twilio/voice/turn":
                return "<Response><Say>O clipă</Say><Redirect>wait?turn=1</Redirect></Response>"
            case "/v1/webhooks/twilio/voice/wait":
                return f"<Response><Say>Mâine la 10</Say>{gather.format(2)}</Response>"
            case "/v1/webhooks/twilio/sms":
                task = asyncio.get_running_loop().create_task(self.reply(params))
                self.replies.add(task)
                task.add_done_callback(self.replies.discard)
        return "<Response/>"

    async def reply(self, params: dict[str, str]) -> None:
        async with httpx.AsyncClient() as http:
            await http.post(
                f"{self.twilio_url}/2010-04-01/Accounts/{params['AccountSid']}/Messages.json",
                data={"To": params["From"], "From": params["To"], "Body": "Da, la 10:00."},
                auth=(params["AccountSid"], self.token))


@pytest.fixture
async def fake_api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeApi:
    monkeypatch.setenv("SIMPTU_STATE_DIR", str(tmp_path))
    return FakeApi(demo_twilio_account(CLINIC).auth_token)


def routes(api: FakeApi) -> Starlette:
    paths = ("sms", "voice", "voice/turn", "voice/wait", "voice/status")
    return Starlette(routes=[Route(f"/v1/webhooks/twilio/{path}", api.receive,
                                   methods=["POST"]) for path in paths])


async def test_a_call_follows_its_twiml_from_greeting_to_gather_through_a_redirect(
        fake_api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    async with serving(routes(fake_api)) as api_url:
        called = await asyncio.to_thread(main, ["--api", api_url, "call", "--tenant", CLINIC,
                                                "--from", CUSTOMER])
        sid = capsys.readouterr().out.split("CallSid ")[1].split()[0]
        said = await asyncio.to_thread(main, ["--api", api_url, "say", "--call-sid", sid,
                                              "Aș vrea mâine dimineață"])
        hung_up = await asyncio.to_thread(main, ["--api", api_url, "hangup", "--call-sid", sid])

    assert (called, said, hung_up) == (0, 0, 0)
    assert [path for path, _ in fake_api.posted] == [
        "/v1/webhooks/twilio/voice", "/v1/webhooks/twilio/voice/turn?turn=1",
        "/v1/webhooks/twilio/voice/wait?turn=1", "/v1/webhooks/twilio/voice/status"]
    ringing, turn, waited, ended = (params for _, params in fake_api.posted)
    assert (ringing["CallStatus"], ringing["Caller"], ringing["CallSid"]) == (
        "ringing", CUSTOMER, sid)
    assert (turn["SpeechResult"], turn["CallSid"]) == ("Aș vrea mâine dimineață", sid)
    assert "SpeechResult" not in waited
    assert ended["CallStatus"] == "completed"
    assert "Mâine la 10" in capsys.readouterr().out


async def test_an_sms_shows_the_reply_and_stop_opts_the_number_out(
        fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    clinic = demo_twilio_account(CLINIC)
    async with serving(routes(fake_api)) as api_url, serve() as twilio:
        twilio.state.register(TwilioAccount(account_sid=clinic.account_sid,
                                            auth_token=clinic.auth_token,
                                            numbers=list(clinic.phone_numbers)))
        fake_api.twilio_url = twilio.url
        monkeypatch.setenv("SIMPTU_TWILIO_API_PORT", twilio.url.rsplit(":", 1)[1])
        asked = await asyncio.to_thread(main, ["--api", api_url, "sms", "--tenant", CLINIC,
                                               "--from", CUSTOMER, "--wait", "10",
                                               "Aveți loc mâine?"])
        stopped = await asyncio.to_thread(main, ["--api", api_url, "sms", "--tenant", CLINIC,
                                                 "--from", CUSTOMER, "stop"])

    assert (asked, stopped) == (0, 0)
    assert f"reply to {CUSTOMER} (201, 1 segment(s)" in capsys.readouterr().out
    assert (clinic.account_sid, CUSTOMER) in twilio.state.opted_out
    assert [params["Body"] for _, params in fake_api.posted] == ["Aveți loc mâine?", "stop"]
