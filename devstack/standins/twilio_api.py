"""A local stand-in of Twilio's Programmable Messaging REST API, following Twilio's documented
contract and recording everything it is sent; the same app runs in `make up` (service
`twilio-api`) and in tests (`serve()`, in-process on a free port).

REST (../shared/CHANNELS.md, Twilio section), JSON answers, errors as `{code, message,
more_info, status}`:
- `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`: HTTP Basic auth (AccountSid:AuthToken
  of a registered account, else 401 code 20003), form fields `To`, `From` (one of the account's
  numbers) or `MessagingServiceSid`, `Body` (at most 1600 characters, 21617), `StatusCallback`;
  `To` must be E.164 (21211) and not opted out of the account (21610). 201 with the Message
  resource: `sid` (SM + 32 hex), `status` queued (accepted when sent through a Messaging
  Service without `From`), `num_segments` (a string, as Twilio's: GSM-7 or UCS-2 segments).
- `GET /2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}.json`: the message, its status
  as far as the callbacks have gone.

After an accepted message the stand-in posts `sent` then `delivered` (or, when a queued fault
says so, `sent` then `undelivered`/`failed` with `ErrorCode`) to its `StatusCallback`, form
encoded and signed with `X-Twilio-Signature` (the `twilio` library's RequestValidator
algorithm over the exact callback URL and every parameter), again on a non-2xx answer.

Control endpoints, all under `/_standin/`: `healthz`, `accounts` (register), `opt_out`,
`faults`, `calls` (every REST request), `callbacks` (status callbacks posted), `config`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import json
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from simptu.devstack.settings import DevstackSettings
from simptu.devstack.standins import standin
from simptu.devstack.standins.standin import (
    StandinState,
    apply_control,
    drop_faults,
    listing,
    run_standin,
    serving,
    standin_app,
    standin_parser,
)
from simptu.devstack.standins.twilio_payloads import (
    API_VERSION,
    Params,
    message_status,
    new_sid,
    parse_form,
    signed,
    sms_segments,
)

log = logging.getLogger("simptu.standin.twilio_api")

Record = dict[str, Any]
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
BODY_CHARS = 1600
ACCOUNT_SID = r"^AC[0-9a-f]{32}$"
SERVICE_SID = r"^MG[0-9a-f]{32}$"


class TwilioAccount(BaseModel):
    """A Twilio account the stand-in serves: its credentials, the numbers it may send from and
    its Messaging Services."""

    account_sid: str = Field(pattern=ACCOUNT_SID)
    auth_token: str = Field(min_length=1)
    numbers: list[str] = Field(default_factory=list)
    messaging_service_sids: list[str] = Field(default_factory=list)


class OptOut(BaseModel):
    """`number` replied STOP to the account (`opted_out` false: START, texted again)."""

    account_sid: str
    number: str
    opted_out: bool = True


class Fault(BaseModel):
    """The answer to the next message matching `account_sid` and/or `to` (None: any): an
    error (`status`, `code`), or, with `as_status` undelivered/failed, a 201 whose status
    callbacks end in that status with ErrorCode `code` (e.g. 30003 unreachable)."""

    account_sid: str | None = None
    to: str | None = None
    status: int = Field(default=400, ge=400, le=599)
    code: int
    message: str = "Injected fault"
    as_status: Literal["undelivered", "failed"] | None = None


class StandinConfig(standin.StandinConfig):
    status_callbacks: bool = True
    status_delay: float = 0.05  # seconds before each status callback
    callback_attempts: int = 4
    callback_backoff: float = 0.2  # seconds, doubled after each failed attempt
    callback_timeout: float = 5.0


class TwilioError(Exception):
    """An error answer in Twilio's shape: `{"code", "message", "more_info", "status"}`."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> Record:
        return {"code": self.code, "message": self.message,
                "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
                "status": self.status}


def authenticate() -> TwilioError:
    return TwilioError(401, 20003, "Authenticate")


@dataclass
class TwilioState(StandinState):
    """Everything the stand-in knows and was sent; tests hold it to look inside."""

    config: StandinConfig = field(default_factory=StandinConfig)
    accounts: dict[str, TwilioAccount] = field(default_factory=dict)
    opted_out: set[tuple[str, str]] = field(default_factory=set)
    faults: list[Fault] = field(default_factory=list)
    messages: dict[str, Record] = field(default_factory=dict)
    calls: list[Record] = field(default_factory=list)
    callbacks: list[Record] = field(default_factory=list)

    def register(self, account: TwilioAccount) -> None:
        self.accounts[account.account_sid] = account

    def opt_out(self, change: OptOut) -> None:
        key = (change.account_sid, change.number)
        if change.opted_out:
            self.opted_out.add(key)
        else:
            self.opted_out.discard(key)

    def queue_fault(self, fault: Fault) -> None:
        self.faults.append(fault)

    def take_fault(self, account_sid: str, to: str) -> Fault | None:
        for fault in self.faults:
            if fault.account_sid in (None, account_sid) and fault.to in (None, to):
                self.faults.remove(fault)
                return fault
        return None


# The Messages resource ----------------------------------------------------------------------


def basic_auth(request: Request) -> tuple[str, str]:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return "", ""
    try:
        user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    return user, password


def account_of(state: TwilioState, path_sid: str, user: str, password: str) -> TwilioAccount:
    """The account whose credentials these are, if the path names that very account."""
    account = state.accounts.get(user)
    if (account is None or user != path_sid
            or not hmac.compare_digest(account.auth_token.encode(), password.encode())):
        raise authenticate()
    return account


def check_message(state: TwilioState, account: TwilioAccount, form: Params) -> None:
    to, sender = form.get("To", ""), form.get("From", "")
    service, body = form.get("MessagingServiceSid", ""), form.get("Body", "")
    if not to:
        raise TwilioError(400, 21604, "A 'To' phone number is required.")
    if not E164.match(to):
        raise TwilioError(400, 21211, f"Invalid 'To' Phone Number: {to}")
    if not sender and not service:
        raise TwilioError(400, 21603, "A 'From' phone number is required.")
    if sender and sender not in account.numbers:
        raise TwilioError(400, 21606, f"The From phone number {sender} is not a valid, "
                          "SMS-capable inbound phone number or short code for your account.")
    if service and service not in account.messaging_service_sids:
        raise TwilioError(400, 21701, f"The Messaging Service Sid {service} is invalid.")
    if not body and not form.get("MediaUrl"):
        raise TwilioError(400, 21602, "Message body is required.")
    if len(body) > BODY_CHARS:
        raise TwilioError(400, 21617, "The concatenated message body exceeds the "
                          f"{BODY_CHARS} character limit.")
    if (account.account_sid, to) in state.opted_out:
        raise TwilioError(400, 21610, "Attempt to send to unsubscribed recipient")


def message_resource(account: TwilioAccount, form: Params) -> Record:
    now = format_datetime(datetime.now(UTC))
    sid, body = new_sid("SM"), form.get("Body", "")
    service = form.get("MessagingServiceSid", "") or None
    sender = form.get("From", "") or None
    uri = f"/{API_VERSION}/Accounts/{account.account_sid}/Messages/{sid}"
    return {
        "account_sid": account.account_sid, "api_version": API_VERSION, "body": body,
        "date_created": now, "date_sent": None, "date_updated": now,
        "direction": "outbound-api", "error_code": None, "error_message": None,
        "from": sender, "messaging_service_sid": service, "num_media": "0",
        "num_segments": str(sms_segments(body).count), "price": None, "price_unit": "USD",
        "sid": sid, "status": "queued" if sender else "accepted",
        "subresource_uris": {"media": f"{uri}/Media.json", "feedback": f"{uri}/Feedback.json"},
        "to": form["To"], "uri": f"{uri}.json"}


def create_message(state: TwilioState, account: TwilioAccount,
                   form: Params) -> tuple[Record, int]:
    check_message(state, account, form)
    fault = state.take_fault(account.account_sid, form["To"])
    if fault is not None and fault.as_status is None:
        raise TwilioError(fault.status, fault.code, fault.message)
    message = message_resource(account, form)
    state.messages[message["sid"]] = message
    callback = form.get("StatusCallback", "")
    if callback and state.config.status_callbacks:
        state.in_background(lambda: post_statuses(state, account, message, callback, fault))
    return message, 201


# Status callbacks ---------------------------------------------------------------------------


async def post_statuses(state: TwilioState, account: TwilioAccount, message: Record,
                        url: str, fault: Fault | None) -> None:
    if message["from"] is None:  # a Messaging Service picks the sender from its pool
        message["from"] = account.numbers[0] if account.numbers else "+15005550006"
    # (status, error) in order; a fault accepted as a status ends with its code
    steps: list[tuple[str, Fault | None]] = [("sent", None), ("delivered", None)]
    if fault is not None and fault.as_status is not None:
        steps[-1] = (fault.as_status, fault)
    for status, failure in steps:
        await asyncio.sleep(state.config.status_delay)
        error = failure.code if failure else None
        message.update(status=status, error_code=error, date_updated=format_datetime(
            datetime.now(UTC)), error_message=failure.message if failure else None)
        if status == "sent":
            message["date_sent"] = message["date_updated"]
        params = message_status(account.account_sid, message["sid"], status, message["from"],
                                message["to"], error_code=error,
                                messaging_service_sid=message["messaging_service_sid"])
        await deliver(state, account, url, params)


async def deliver(state: TwilioState, account: TwilioAccount, url: str, params: Params) -> None:
    """POST one signed status callback, again on a non-2xx answer, with backoff."""
    headers = signed(url, params, account.auth_token)
    record: Record = {"seq": next(state.sequence), "account_sid": account.account_sid,
                      "message_sid": params["MessageSid"], "to": params["To"],
                      "status": params["MessageStatus"], "url": url, "params": params,
                      "signature": headers["X-Twilio-Signature"], "attempts": [],
                      "delivered": False}
    state.keep(state.callbacks, record)
    config = state.config
    record["attempts"], record["delivered"] = await state.post_retrying(
        url, attempts=config.callback_attempts, backoff=config.callback_backoff,
        client_timeout=config.callback_timeout, accepted=lambda status: 200 <= status < 300,
        data=params, headers=headers)
    if record["delivered"]:
        return
    log.info(json.dumps({"msg": "status callback given up", "url": url,
                         "message_sid": params["MessageSid"], "attempts": record["attempts"]}))


# HTTP ---------------------------------------------------------------------------------------


def redacted(request: Request) -> dict[str, str]:
    return {name: ("Basic <redacted>" if name == "authorization" else value)
            for name, value in request.headers.items()}


def error_answer(error: TwilioError) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if error.status == 401 else None
    return JSONResponse(error.body(), status_code=error.status, headers=headers)


def create_app(state: TwilioState) -> Starlette:
    async def send_message(request: Request) -> Response:
        path_sid = request.path_params["account_sid"]
        user, password = basic_auth(request)
        form = parse_form(await request.body())
        account: TwilioAccount | None = None
        refusal: TwilioError | None = None
        try:
            account = account_of(state, path_sid, user, password)
            answer, status = create_message(state, account, form)
        except TwilioError as error:
            refusal, answer, status = error, error.body(), error.status
        record = {"seq": next(state.sequence), "at": datetime.now(UTC).isoformat(),
                  "method": request.method, "path": request.url.path, "account_sid": path_sid,
                  "to": form.get("To"), "auth_ok": account is not None,
                  "headers": redacted(request), "form": form, "status": status,
                  "answer": answer}
        state.keep(state.calls, record)
        log.info(json.dumps({"msg": "send", "account_sid": path_sid, "to": record["to"],
                             "status": status, "body": form.get("Body"), "answer": answer},
                            ensure_ascii=False))
        if refusal is not None:
            return error_answer(refusal)
        return JSONResponse(answer, status_code=status)

    async def fetch_message(request: Request) -> Response:
        try:
            account = account_of(state, request.path_params["account_sid"],
                                 *basic_auth(request))
        except TwilioError as error:
            return error_answer(error)
        message = state.messages.get(request.path_params["sid"])
        if message is None or message["account_sid"] != account.account_sid:
            return error_answer(TwilioError(404, 20404, f"The requested resource "
                                            f"{request.url.path} was not found"))
        return JSONResponse(message)

    async def accounts(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse({"accounts": [account.model_dump(exclude={"auth_token"})
                                              for account in state.accounts.values()]})
        return await apply_control(request, TwilioAccount, state.register)

    async def opt_out(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse({"opted_out": [{"account_sid": account_sid, "number": number}
                                               for account_sid, number in state.opted_out]})
        return await apply_control(request, OptOut, state.opt_out)

    async def faults(request: Request) -> Response:
        return await apply_control(request, Fault, state.queue_fault)

    messages = f"/{API_VERSION}/Accounts/{{account_sid:str}}/Messages"
    keys = ("account_sid", "to")
    return standin_app(state, [
        Route(f"{messages}.json", send_message, methods=["POST"]),
        Route(f"{messages}/{{sid:str}}.json", fetch_message, methods=["GET"]),
        Route("/_standin/accounts", accounts, methods=["GET", "POST"]),
        Route("/_standin/opt_out", opt_out, methods=["GET", "POST"]),
        Route("/_standin/faults", faults, methods=["POST"]),
        Route("/_standin/faults", drop_faults(state.faults, keys), methods=["DELETE"]),
        Route("/_standin/calls", listing(state.calls, "calls", keys)),
        Route("/_standin/callbacks", listing(state.callbacks, "callbacks",
                                             (*keys, "message_sid"))),
    ], lambda: {"accounts": len(state.accounts)})


@dataclass(frozen=True)
class RunningStandin:
    url: str  # the REST base URL (what SIMPTU_TWILIO_API_URL holds)
    state: TwilioState


@contextlib.asynccontextmanager
async def serve(config: StandinConfig | None = None, *, host: str = "127.0.0.1",
                port: int = 0) -> AsyncIterator[RunningStandin]:
    """The stand-in served in this event loop, with a handle to its state."""
    state = TwilioState(config=config or StandinConfig())
    async with serving(create_app(state), host=host, port=port) as url:
        yield RunningStandin(url, state)


def main(argv: list[str] | None = None) -> None:
    parser = standin_parser(
        "twilio_api", "Serve the local stand-in of Twilio's Messaging REST API (send a "
        "message, status callbacks) with its /_standin/ control endpoints.",
        DevstackSettings().twilio_api_port)
    parser.add_argument("--no-status-callbacks", action="store_true",
                        help="post no status callbacks at all")
    args = parser.parse_args(argv)
    state = TwilioState(config=StandinConfig(status_callbacks=not args.no_status_callbacks))
    run_standin(create_app(state), args.host, args.port)


if __name__ == "__main__":
    main()
