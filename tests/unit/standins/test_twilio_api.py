"""The Twilio stand-in keeps Twilio's contract: Basic auth (20003), E.164 (21211), opt-outs
(21610), body length (21617), queued faults (20429), segment counting (GSM-7 vs UCS-2), and
status callbacks signed so that the `twilio` library's RequestValidator accepts them."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from simptu.devstack.standins.standin import serving
from simptu.devstack.standins.twilio_api import RunningStandin, StandinConfig, serve
from simptu.devstack.standins.twilio_control import TwilioControl
from simptu.devstack.standins.twilio_payloads import (
    Segments,
    new_sid,
    parse_form,
    sms_segments,
)

CUSTOMER = "+40722123456"


@dataclass
class Receiver:
    """Where the API's status webhook would be: it keeps each callback's URL as called, its
    parameters and signature, answering 500 to the first `failures` callbacks."""

    failures: int = 0
    received: list[tuple[str, dict[str, str], str]] = field(default_factory=list)

    async def status(self, request: Request) -> Response:
        if self.failures > 0:
            self.failures -= 1
            return Response(status_code=500)
        params = parse_form(await request.body())
        self.received.append((str(request.url), params,
                              request.headers["x-twilio-signature"]))
        return Response("<Response/>", media_type="application/xml")

    def of(self, message_sid: str) -> list[tuple[str, dict[str, str], str]]:
        return [entry for entry in self.received if entry[1]["MessageSid"] == message_sid]


@dataclass(frozen=True)
class Servers:
    twilio: RunningStandin
    receiver: Receiver
    callback_url: str


@pytest.fixture(scope="session")
async def servers() -> AsyncIterator[Servers]:
    hook = Receiver()
    app = Starlette(routes=[Route("/v1/webhooks/twilio/status", hook.status, methods=["POST"])])
    async with serving(app) as url:
        config = StandinConfig(status_delay=0, callback_backoff=0.01)
        async with serve(config) as twilio:
            yield Servers(twilio, hook, f"{url}/v1/webhooks/twilio/status?tenant=t1")


@dataclass(frozen=True)
class Account:
    sid: str
    token: str
    number: str
    service: str


@pytest.fixture
async def account(servers: Servers) -> AsyncIterator[Account]:
    """An account of this test's own, as tests register them on the stack's stand-in."""
    made = Account(new_sid("AC"), secrets.token_hex(16),
                   f"+40364{secrets.randbelow(10**6):06d}", new_sid("MG"))
    async with httpx.AsyncClient() as http:
        await TwilioControl(http, servers.twilio.url).register(
            made.sid, made.token, [made.number], messaging_service_sids=[made.service])
        yield made


@pytest.fixture
async def control(servers: Servers) -> AsyncIterator[TwilioControl]:
    async with httpx.AsyncClient() as http:
        yield TwilioControl(http, servers.twilio.url)


async def send(servers: Servers, account: Account, *, auth: tuple[str, str] | None = None,
               path_sid: str | None = None, **form: str) -> httpx.Response:
    fields = {"To": CUSTOMER, "From": account.number, "Body": "Bună ziua!", **form}
    async with httpx.AsyncClient(base_url=servers.twilio.url) as http:
        return await http.post(
            f"/2010-04-01/Accounts/{path_sid or account.sid}/Messages.json", data=fields,
            auth=auth or (account.sid, account.token))


async def test_a_message_gets_the_documented_answer_and_is_recorded(
        servers: Servers, account: Account, control: TwilioControl) -> None:
    answer = await send(servers, account, Body="Vă așteptăm mâine la 10:00")

    assert answer.status_code == 201
    message = answer.json()
    assert message["sid"].startswith("SM")
    assert len(message["sid"]) == 34
    assert int(message["sid"][2:], 16) >= 0
    assert (message["status"], message["to"], message["from"]) == ("queued", CUSTOMER,
                                                                   account.number)
    assert (message["body"], message["num_segments"]) == ("Vă așteptăm mâine la 10:00", "1")
    assert (message["error_code"], message["error_message"]) == (None, None)
    assert message["uri"] == f"/2010-04-01/Accounts/{account.sid}/Messages/{message['sid']}.json"
    [call] = await control.calls(account.sid)
    assert (call["auth_ok"], call["status"], call["answer"]) == (True, 201, message)
    assert call["form"]["Body"] == "Vă așteptăm mâine la 10:00"
    assert call["headers"]["authorization"] == "Basic <redacted>"


async def test_wrong_credentials_are_refused_with_20003(
        servers: Servers, account: Account, control: TwilioControl) -> None:
    other = Account(new_sid("AC"), "x", account.number, account.service)
    wrong_token = await send(servers, account, auth=(account.sid, account.token + "x"))
    unknown = await send(servers, other, auth=(other.sid, other.token))
    other_path = await send(servers, account, path_sid=other.sid)
    async with httpx.AsyncClient(base_url=servers.twilio.url) as http:
        missing = await http.post(f"/2010-04-01/Accounts/{account.sid}/Messages.json",
                                  data={"To": CUSTOMER, "Body": "x"})

    for refused in (wrong_token, unknown, other_path, missing):
        assert refused.status_code == 401
        assert refused.json() == {"code": 20003, "message": "Authenticate", "status": 401,
                                  "more_info": "https://www.twilio.com/docs/errors/20003"}
        assert refused.headers["www-authenticate"].startswith("Basic")
    assert [call["auth_ok"] for call in await control.calls(account.sid)] == [False, False]


async def test_bad_sends_get_twilios_error_codes(servers: Servers, account: Account) -> None:
    refused = {
        21211: await send(servers, account, To="0722123456"),
        21604: await send(servers, account, To=""),
        21603: await send(servers, account, From=""),
        21606: await send(servers, account, From="+40364999999"),
        21701: await send(servers, account, From="", MessagingServiceSid=new_sid("MG")),
        21602: await send(servers, account, Body=""),
        21617: await send(servers, account, Body="a" * 1601),
    }
    longest = await send(servers, account, Body="a" * 1600)

    assert {code: (r.status_code, r.json()["code"]) for code, r in refused.items()} == {
        code: (400, code) for code in refused}
    assert "0722123456" in refused[21211].json()["message"]
    assert (longest.status_code, longest.json()["num_segments"]) == (201, "11")


async def test_an_opted_out_number_is_refused_with_21610_until_it_opts_in(
        servers: Servers, account: Account, control: TwilioControl) -> None:
    await control.opt_out(account.sid, CUSTOMER)
    stopped = await send(servers, account)
    other_number = await send(servers, account, To="+40722000999")
    await control.opt_out(account.sid, CUSTOMER, opted_out=False)
    started = await send(servers, account)

    assert (stopped.status_code, stopped.json()["code"]) == (400, 21610)
    assert other_number.status_code == 201
    assert started.status_code == 201


async def test_a_queued_fault_answers_the_next_matching_send_only(
        servers: Servers, account: Account, control: TwilioControl) -> None:
    await control.fault(20429, status=429, message="Too Many Requests", account_sid=account.sid,
                        to=CUSTOMER)
    other = await send(servers, account, To="+40722000888")
    limited = await send(servers, account)
    retried = await send(servers, account)

    assert other.status_code == 201
    assert (limited.status_code, limited.json()["code"]) == (429, 20429)
    assert limited.json()["message"] == "Too Many Requests"
    assert retried.status_code == 201


@pytest.mark.parametrize(("body", "expected"), [
    ("a" * 160, Segments("GSM-7", 1)),
    ("a" * 161, Segments("GSM-7", 2)),
    ("a" * 306, Segments("GSM-7", 2)),
    ("a" * 307, Segments("GSM-7", 3)),
    ("€" * 80, Segments("GSM-7", 1)),  # the extension table: two septets each
    ("€" * 81, Segments("GSM-7", 2)),
    ("Bună ziua" + "a" * 61, Segments("UCS-2", 1)),  # ă: not GSM-7
    ("ș" * 71, Segments("UCS-2", 2)),
    ("ț" * 134, Segments("UCS-2", 2)),
    ("î" * 135, Segments("UCS-2", 3)),
    ("🦷" * 35, Segments("UCS-2", 1)),  # two UTF-16 units each
    ("🦷" * 36, Segments("UCS-2", 2)),
    ("Ce mai faceți? Vă așteptăm!", Segments("UCS-2", 1)),
    ("Va asteptam maine la 10:00. Multumim!", Segments("GSM-7", 1)),
])
def test_segments_are_counted_as_twilio_bills_them(body: str, expected: Segments) -> None:
    assert sms_segments(body) == expected


async def test_num_segments_follows_the_encoding(servers: Servers, account: Account) -> None:
    gsm = await send(servers, account, Body="a" * 200)
    romanian = await send(servers, account, Body="ă" * 200)
    assert (gsm.json()["num_segments"], romanian.json()["num_segments"]) == ("2", "3")


async def test_status_callbacks_are_signed_as_twilios_request_validator_expects(
        servers: Servers, account: Account, control: TwilioControl) -> None:
    answer = await send(servers, account, StatusCallback=servers.callback_url)
    sid = answer.json()["sid"]
    await servers.twilio.state.settled()

    callbacks = servers.receiver.of(sid)
    assert [params["MessageStatus"] for _, params, _ in callbacks] == ["sent", "delivered"]
    for url, params, signature in callbacks:
        assert url == servers.callback_url  # the query string is part of what is signed
        assert RequestValidator(account.token).validate(url, params, signature)
        assert not RequestValidator(account.token + "x").validate(url, params, signature)
        assert (params["AccountSid"], params["From"], params["To"]) == (
            account.sid, account.number, CUSTOMER)
        assert "ErrorCode" not in params
    recorded = await control.callbacks(message_sid=sid)
    assert [(r["status"], r["delivered"]) for r in recorded] == [("sent", True),
                                                                 ("delivered", True)]
    async with httpx.AsyncClient(base_url=servers.twilio.url) as http:
        fetched = await http.get(f"/2010-04-01/Accounts/{account.sid}/Messages/{sid}.json",
                                 auth=(account.sid, account.token))
    assert fetched.json()["status"] == "delivered"


async def test_a_failing_callback_is_posted_again(servers: Servers, account: Account,
                                                  control: TwilioControl) -> None:
    servers.receiver.failures = 2
    sid = (await send(servers, account, StatusCallback=servers.callback_url)).json()["sid"]
    await servers.twilio.state.settled()

    sent = (await control.callbacks(message_sid=sid))[0]
    assert [attempt["status"] for attempt in sent["attempts"]] == [500, 500, 200]
    assert [p["MessageStatus"] for _, p, _ in servers.receiver.of(sid)] == ["sent", "delivered"]


async def test_a_fault_as_status_is_accepted_then_undelivered_with_its_error_code(
        servers: Servers, account: Account, control: TwilioControl) -> None:
    await control.fault(30003, account_sid=account.sid, as_status="undelivered",
                        message="Unreachable destination handset")
    answer = await send(servers, account, StatusCallback=servers.callback_url)
    await servers.twilio.state.settled()

    assert answer.status_code == 201
    [(_, sent, _), (_, ended, _)] = servers.receiver.of(answer.json()["sid"])
    assert sent["MessageStatus"] == "sent"
    assert "ErrorCode" not in sent
    assert (ended["MessageStatus"], ended["ErrorCode"]) == ("undelivered", "30003")


async def test_a_messaging_service_send_is_accepted_and_sent_from_its_number(
        servers: Servers, account: Account) -> None:
    answer = await send(servers, account, From="", MessagingServiceSid=account.service,
                        StatusCallback=servers.callback_url)
    await servers.twilio.state.settled()

    assert answer.status_code == 201
    assert (answer.json()["status"], answer.json()["from"]) == ("accepted", None)
    assert answer.json()["messaging_service_sid"] == account.service
    callbacks = servers.receiver.of(answer.json()["sid"])
    assert {params["From"] for _, params, _ in callbacks} == {account.number}
    assert {params["MessagingServiceSid"] for _, params, _ in callbacks} == {account.service}


async def test_the_twilio_librarys_async_client_sends_through_the_standin(
        servers: Servers, account: Account, control: TwilioControl) -> None:
    client = Client(account.sid, account.token, http_client=AsyncTwilioHttpClient())
    client.api.base_url = servers.twilio.url
    try:
        message = await client.messages.create_async(
            to=CUSTOMER, from_=account.number, body="Programarea e confirmată ✅",
            status_callback=servers.callback_url)
        await control.opt_out(account.sid, CUSTOMER)
        with pytest.raises(TwilioRestException) as refused:
            await client.messages.create_async(to=CUSTOMER, from_=account.number, body="x")
    finally:
        await client.http_client.close()

    assert message.sid.startswith("SM")
    assert (message.status, message.num_segments) == ("queued", "1")
    assert (refused.value.status, refused.value.code) == (400, 21610)
    [call, _] = await control.calls(account.sid)
    assert call["form"]["StatusCallback"] == servers.callback_url


async def test_wait_for_calls_returns_the_first_ones_or_names_what_arrived(
        servers: Servers, account: Account, control: TwilioControl) -> None:
    await send(servers, account, Body="unu")
    await send(servers, account, Body="doi")

    first = await control.wait_for_calls(1, account_sid=account.sid, to=CUSTOMER)
    with pytest.raises(TimeoutError, match="2 of 3 requests"):
        await control.wait_for_calls(3, account_sid=account.sid, within=0.3)
    assert [call["form"]["Body"] for call in first] == ["unu"]
