"""A local stand-in of Booking.com's Connectivity APIs, following the documented contract
(../shared/CHANNELS.md, "Booking.com Connectivity APIs") and recording everything it is sent;
the same app runs in `make up` (service `booking-com`) and in tests (`serve()`).

Auth: every call carries the machine account's HTTP Basic credentials, or a bearer token from
`POST /token-based-authentication/exchange` (Basic, or JSON `client_id`/`client_secret`;
answers `{"jwt", "expires_in": 3600}`). Failure: 401 with an OTA
`<Errors><Error ShortText="Authorization Required"/>` (JSON `errors` on the messaging API).

- `GET /hotels/ota/OTA_HotelResNotif[?hotel_ids=…]`: an `OTA_HotelResNotifRQ` of the account's
  new reservations not acknowledged yet; `POST` of an `OTA_HotelResNotifRS` listing
  `HotelReservationID@ResID_Value` acknowledges them. `OTA_HotelResModifyNotif`: the same for
  modifications and cancellations (`HotelResModify@ResStatus` Modify|Cancel).
- `GET /messaging/messages/latest`: up to 100 of the account's queued messages
  (`message_id`, `content`, `timestamp`, `sender.participant_id`,
  `sender.metadata.participant_type` GUEST|PROPERTY, `conversation.conversation_id`,
  `conversation_reference`, `conversation.property_id`); `PUT /messaging/messages`
  `{"number_of_messages", "timestamp"}` confirms them (taken off the queue).
- `POST /messaging/properties/{property_id}/conversations/{conversation_id}`
  `{"message": {"content"}}`: a reply; `{"data": {"message_id"}}`.

Control endpoints under `/_standin/`: `accounts`, `reservations` (queue), `pending`,
`messages` (queue a guest's), `acks`, `replies`, `calls`, `faults`, `healthz`, `config`.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from simptu.devstack.settings import DevstackSettings
from simptu.devstack.standins import standin
from simptu.devstack.standins.booking_com_mail import DkimKey, reservation_mail
from simptu.devstack.standins.booking_com_payloads import (
    FEEDS,
    QueuedReservation,
    acknowledged_ids,
    feed_document,
    ota_error,
    success,
)
from simptu.devstack.standins.twilio_api import basic_auth, redacted
from simptu.runtime.channels.email.smtp import MailRelay

XML = "text/xml; charset=utf-8"
TOKEN_SECONDS = 3600
MESSAGES_PER_CALL = 100
log = logging.getLogger("simptu.standin.booking_com")


class MachineAccount(BaseModel):
    """A Connectivity API machine account and the properties it may act for."""

    username: str = Field(min_length=1)
    password: str = Field(min_length=1)
    property_ids: list[str] = Field(default_factory=list)


class GuestMessage(BaseModel):
    """A message in a property's conversation, for the account's queue."""

    property_id: str
    conversation_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    reservation_id: str = ""
    message_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    content: str
    participant_type: Literal["GUEST", "PROPERTY"] = "GUEST"
    participant_id: str = Field(default_factory=lambda: str(uuid.uuid4()))


class Fault(BaseModel):
    """The next `times` requests whose path starts with `path` (and of `method`, if given) get
    `status` (a failed acknowledgement: `POST /hotels/ota/OTA_HotelResNotif`)."""

    path: str = "/"
    method: str | None = None
    status: int = Field(default=500, ge=400, le=599)
    times: int = Field(default=1, ge=1)


class BookingComConfig(standin.StandinConfig):
    # Where the stand-in's reservation mails go (`smtp://host:port`), and its DKIM key of
    # booking.com (PEM; empty: its mails are unsigned).
    smtp_url: str = ""
    dkim_key_file: str = ""


class MailOrder(QueuedReservation):
    """Booking.com's mail of this reservation to `to`, sent `times` times (the same mail: a
    mail may arrive twice), signed unless `signed` is false."""

    to: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    times: int = Field(default=1, ge=1, le=5)
    signed: bool = True


@dataclass
class BookingComState(standin.StandinState):
    config: BookingComConfig = field(default_factory=BookingComConfig)
    accounts: dict[str, MachineAccount] = field(default_factory=dict)
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    pending: list[QueuedReservation] = field(default_factory=list)
    queues: dict[str, list[standin.Record]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    acks: list[standin.Record] = field(default_factory=list)
    replies: list[standin.Record] = field(default_factory=list)
    calls: list[standin.Record] = field(default_factory=list)
    mails: list[standin.Record] = field(default_factory=list)

    def register(self, account: MachineAccount) -> None:
        self.accounts[account.username] = account

    def queue_reservation(self, queued: QueuedReservation) -> None:
        self.pending.append(queued)

    def queue_message(self, message: GuestMessage) -> None:
        for account in self.accounts.values():
            if message.property_id in account.property_ids:
                self.queues.setdefault(account.username, []).append(_message_json(message))

    def queue_fault(self, fault: Fault) -> None:
        self.faults.append(fault)

    def take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if path.startswith(fault.path) and fault.method in (None, method):
                fault.times -= 1
                if fault.times == 0:
                    self.faults.remove(fault)
                return fault
        return None

    def account_of(self, request: Request) -> MachineAccount | None:
        """The machine account a request authenticates as (Basic or a live bearer token)."""
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            held = self.tokens.get(header[7:].strip())
            if held is None or held[1] < time.monotonic():
                return None
            return self.accounts.get(held[0])
        return self.checked(*basic_auth(request))

    def checked(self, username: str, password: str) -> MachineAccount | None:
        account = self.accounts.get(username)
        if account is None or not hmac.compare_digest(account.password.encode(),
                                                      password.encode()):
            return None
        return account


def _message_json(message: GuestMessage) -> standin.Record:
    return {"message_id": message.message_id, "message_type": "free_text",
            "content": message.content, "timestamp": datetime.now(UTC).isoformat(),
            "sender": {"participant_id": message.participant_id,
                       "metadata": {"participant_type": message.participant_type}},
            "conversation": {"conversation_id": message.conversation_id,
                             "conversation_reference": message.reservation_id,
                             "conversation_type": "reservation",
                             "property_id": message.property_id}}


def _envelope(data: standin.Record) -> standin.Record:
    return {"meta": {"ruid": secrets.token_hex(16)}, "warnings": [], "data": data, "errors": []}


def _unauthorised(xml: bool) -> Response:
    if xml:
        return Response(ota_error("Authorization Required"), status_code=401, media_type=XML)
    return JSONResponse({**_envelope({}), "errors": [
        {"code": 401, "message": "Authorization Required"}]}, status_code=401)


def create_app(state: BookingComState) -> Starlette:
    def record(request: Request, account: MachineAccount | None, status: int,
               **extra: Any) -> None:
        state.keep(state.calls, {
            "seq": next(state.sequence), "at": datetime.now(UTC).isoformat(),
            "method": request.method, "path": request.url.path,
            "username": account.username if account else None, "auth_ok": account is not None,
            "headers": redacted(request), "status": status, **extra})

    async def guarded(request: Request, xml: bool) -> MachineAccount | Response:
        account = state.account_of(request)
        fault = state.take_fault(request.method, request.url.path)
        if account is None or fault is not None:
            status = fault.status if account is not None and fault else 401
            record(request, account, status, fault=fault is not None)
            if status == 401:
                return _unauthorised(xml)
            return Response(ota_error("Injected fault", str(status)), status_code=status,
                            media_type=XML)
        return account

    async def exchange(request: Request) -> Response:
        account = state.checked(*basic_auth(request))
        if account is None:
            with contextlib.suppress(ValueError):
                body = json.loads(await request.body() or b"{}")
                account = state.checked(str(body.get("client_id", "")),
                                        str(body.get("client_secret", "")))
        record(request, account, 200 if account else 401)
        if account is None:
            return _unauthorised(False)
        token = secrets.token_urlsafe(32)
        state.tokens[token] = (account.username, time.monotonic() + TOKEN_SECONDS)
        return JSONResponse({"jwt": token, "expires_in": TOKEN_SECONDS, "token_type": "Bearer"})

    async def ota(request: Request) -> Response:
        feed = request.path_params["feed"]
        if feed not in FEEDS:
            return Response(ota_error(f"Unknown message {feed}"), status_code=404,
                            media_type=XML)
        account = await guarded(request, True)
        if isinstance(account, Response):
            return account
        wanted = [p for p in request.query_params.get("hotel_ids", "").split(",") if p]
        properties = [p for p in account.property_ids if not wanted or p in wanted]
        if request.method == "GET":
            items = [r for r in state.pending if r.feed == feed and r.property_id in properties]
            record(request, account, 200, feed=feed,
                   reservation_ids=[r.reservation_id for r in items])
            return Response(feed_document(feed, items), media_type=XML)
        try:
            ids = acknowledged_ids(feed, await request.body())
        except (ValueError, SyntaxError) as error:
            record(request, account, 400, feed=feed)
            return Response(ota_error(f"Invalid acknowledgement: {error}"), status_code=400,
                            media_type=XML)
        state.pending = [r for r in state.pending if not (
            r.feed == feed and r.property_id in account.property_ids
            and r.reservation_id in ids)]
        for reservation_id in ids:
            state.keep(state.acks, {"feed": feed, "reservation_id": reservation_id,
                                    "username": account.username,
                                    "at": datetime.now(UTC).isoformat()})
        record(request, account, 200, feed=feed, reservation_ids=ids)
        return Response(success(feed), media_type=XML)

    async def latest(request: Request) -> Response:
        account = await guarded(request, False)
        if isinstance(account, Response):
            return account
        batch = state.queues.get(account.username, [])[:MESSAGES_PER_CALL]
        record(request, account, 200, message_ids=[m["message_id"] for m in batch])
        return JSONResponse(_envelope({"messages": batch, "number_of_messages": len(batch),
                                       "timestamp": datetime.now(UTC).isoformat(),
                                       "ok": "true"}))

    async def confirm(request: Request) -> Response:
        account = await guarded(request, False)
        if isinstance(account, Response):
            return account
        body = json.loads(await request.body() or b"{}")
        count = int(body.get("number_of_messages", 0))
        queue = state.queues.get(account.username, [])
        del queue[:count]
        record(request, account, 200, confirmed=count)
        return JSONResponse(_envelope({"ok": "true"}))

    async def reply(request: Request) -> Response:
        account = await guarded(request, False)
        if isinstance(account, Response):
            return account
        property_id = request.path_params["property_id"]
        content = str(((json.loads(await request.body() or b"{}")).get("message")
                       or {}).get("content") or "")
        if property_id not in account.property_ids or not content:
            status = 403 if property_id not in account.property_ids else 400
            record(request, account, status)
            return JSONResponse({**_envelope({}), "errors": [
                {"code": status, "message": "Forbidden" if status == 403 else
                 "message.content is required"}]}, status_code=status)
        message_id = str(uuid.uuid4())
        state.keep(state.replies, {
            "property_id": property_id, "message_id": message_id, "content": content,
            "conversation_id": request.path_params["conversation_id"],
            "at": datetime.now(UTC).isoformat()})
        record(request, account, 200, message_id=message_id)
        return JSONResponse(_envelope({"message_id": message_id}))

    async def accounts(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse({"accounts": [a.model_dump(exclude={"password"})
                                              for a in state.accounts.values()]})
        return await standin.apply_control(request, MachineAccount, state.register)

    async def reservations(request: Request) -> Response:
        return await standin.apply_control(request, QueuedReservation, state.queue_reservation)

    async def pending(request: Request) -> Response:
        return JSONResponse({"pending": [r.model_dump(mode="json") for r in state.pending]})

    async def messages(request: Request) -> Response:
        return await standin.apply_control(request, GuestMessage, state.queue_message)

    async def faults(request: Request) -> Response:
        return await standin.apply_control(request, Fault, state.queue_fault)

    async def mails(request: Request) -> Response:
        try:
            order = MailOrder.model_validate_json(await request.body())
        except ValueError as error:
            return JSONResponse({"error": str(error)}, status_code=422)
        smtp = urlsplit(state.config.smtp_url)
        if not smtp.hostname:
            return JSONResponse({"error": "no smtp_url configured"}, status_code=409)
        message = reservation_mail(order, order.to)
        if order.signed and state.config.dkim_key_file:
            key = DkimKey.kept_in(Path(state.config.dkim_key_file), "booking.com")
            message = key.sign(message)
        relay = MailRelay(state.config.smtp_url)
        for _ in range(order.times):
            await relay.send(message)
        sent = {"to": order.to, "reservation_id": order.reservation_id,
                "status": order.status, "message_id": message["Message-ID"],
                "signed": "DKIM-Signature" in message, "times": order.times}
        state.keep(state.mails, sent)
        return JSONResponse(sent)

    return standin.standin_app(state, [
        Route("/token-based-authentication/exchange", exchange, methods=["POST"]),
        Route("/hotels/ota/{feed:str}", ota, methods=["GET", "POST"]),
        Route("/messaging/messages/latest", latest, methods=["GET"]),
        Route("/messaging/messages", confirm, methods=["PUT"]),
        Route("/messaging/properties/{property_id:str}/conversations/{conversation_id:str}",
              reply, methods=["POST"]),
        Route("/_standin/accounts", accounts, methods=["GET", "POST"]),
        Route("/_standin/reservations", reservations, methods=["POST"]),
        Route("/_standin/pending", pending, methods=["GET"]),
        Route("/_standin/messages", messages, methods=["POST"]),
        Route("/_standin/faults", faults, methods=["POST"]),
        Route("/_standin/mails", mails, methods=["POST"]),
        Route("/_standin/mails", standin.listing(state.mails, "mails",
                                                 ("to", "reservation_id")), methods=["GET"]),
        Route("/_standin/faults", standin.drop_faults(state.faults, ("path", "method")),
              methods=["DELETE"]),
        Route("/_standin/acks", standin.listing(state.acks, "acks", ("feed", "reservation_id"))),
        Route("/_standin/replies", standin.listing(state.replies, "replies",
                                           ("property_id", "conversation_id"))),
        Route("/_standin/calls", standin.listing(state.calls, "calls", ("method", "path"))),
    ], lambda: {"accounts": len(state.accounts), "pending": len(state.pending)})


@dataclass(frozen=True)
class RunningStandin:
    url: str  # the base URL of both APIs (SIMPTU_BOOKING_COM_OTA_URL, _MESSAGING_URL)
    state: BookingComState


@contextlib.asynccontextmanager
async def serve(*, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[RunningStandin]:
    """The stand-in served in this event loop, with a handle to its state."""
    state = BookingComState()
    async with standin.serving(create_app(state), host=host, port=port) as url:
        yield RunningStandin(url, state)


def main(argv: list[str] | None = None) -> None:
    parser = standin.standin_parser(
        "booking_com", "Serve the local stand-in of Booking.com's Connectivity APIs (OTA "
        "reservation feeds, messaging API, token exchange) and of its reservation e-mails, "
        "with its /_standin/ control endpoints.", DevstackSettings().booking_com_port)
    parser.add_argument("--smtp-url", default="", help="where reservation mails are sent")
    parser.add_argument("--dkim-key", default="", help="booking.com's DKIM key (PEM file)")
    args = parser.parse_args(argv)
    config = BookingComConfig(smtp_url=args.smtp_url, dkim_key_file=args.dkim_key)
    standin.run_standin(create_app(BookingComState(config=config)), args.host, args.port)


if __name__ == "__main__":
    main()
