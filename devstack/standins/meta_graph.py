"""A local stand-in of Meta's Graph API send endpoints, following Meta's documented contract
and recording everything it is sent; the same app runs in `make up` (service `meta-graph`) and
in tests (`serve()`, in-process on a free port).

Sends (../shared/CHANNELS.md, Meta section):
- `POST /{version}/{phone_number_id}/messages`: WhatsApp Cloud API, `type` text or template;
- `POST /{version}/{page_id}/messages`, `/{version}/{ig_account_id}/messages` and
  `/{version}/me/messages` (the object whose token it is): Messenger and Instagram.

Each send must carry the access token registered for its object (`Authorization: Bearer` or
`access_token=`), else 401 code 190; a bad payload is 400 code 100; free-form text more than
24 h after the customer last wrote (as told through `POST /_standin/inbound`; never told: the
window is open) is refused (WhatsApp 131047, Messenger/Instagram #10 unless MESSAGE_TAG
HUMAN_AGENT within 7 days). Queued faults answer the next matching sends. After an accepted
WhatsApp send the stand-in posts signed `sent`, `delivered`, `read` statuses to the webhook
URL in the background, retrying non-200 answers with backoff.

Control endpoints, all under `/_standin/`: `healthz`, `objects` (register), `inbound`,
`faults`, `calls`, `webhooks` (status deliveries), `config`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from simptu.devstack.settings import DevstackSettings
from simptu.devstack.standins import standin
from simptu.devstack.standins.meta_payloads import (
    Payload,
    new_mid,
    new_wamid,
    signed_request,
    whatsapp_status,
)
from simptu.devstack.standins.standin import (
    StandinState,
    apply_control,
    drop_faults,
    listing,
    run_standin,
    standin_app,
    standin_parser,
)
from simptu.devstack.standins.standin import serving as serving  # tests import it from here

log = logging.getLogger("simptu.standin.meta_graph")

Kind = Literal["whatsapp", "messenger", "instagram"]
WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
WHATSAPP_TEXT_CHARS = 4096
MESSENGER_TEXT_CHARS = 2000  # text must be shorter than this
INSTAGRAM_TEXT_BYTES = 1000


class MetaObject(BaseModel):
    """A WhatsApp phone number, a Facebook Page or an Instagram account the stand-in serves."""

    object_id: str = Field(min_length=1)
    kind: Kind
    access_token: str = Field(min_length=1)
    app_secret: str = Field(min_length=1)
    # Where its status webhooks go; None: the stand-in's webhook_url.
    webhook_url: str | None = None
    status_webhooks: bool = True
    # WhatsApp: the `metadata.display_phone_number` (digits) and `entry[].id` of its webhooks.
    display_phone_number: str = "40740100200"
    business_account_id: str | None = None
    # WhatsApp: approved templates, name → number of body parameters; None accepts any.
    templates: dict[str, int] | None = None


class Fault(BaseModel):
    """The answer to the next send matching `object_id` and/or `recipient` (None: any)."""

    object_id: str | None = None
    recipient: str | None = None
    status: int = Field(default=400, ge=400, le=599)
    code: int
    message: str = "Injected fault"
    error_subcode: int | None = None
    # WhatsApp: accept the send (200, a wamid), then post a `failed` status with this code.
    as_status: bool = False
    # With `as_status`: post the status before answering the send, as a provider's webhook can
    # overtake the sender's own record of the send.
    status_first: bool = False


class Inbound(BaseModel):
    """The customer last wrote to the object at `at` (default: now)."""

    object_id: str
    customer_id: str
    at: datetime | None = None


class StandinConfig(standin.StandinConfig):
    webhook_url: str | None = None
    status_webhooks: bool = True
    read_receipts: bool = True
    status_delay: float = 0.05  # seconds before each status
    webhook_attempts: int = 4
    webhook_backoff: float = 0.2  # seconds, doubled after each failed attempt
    webhook_timeout: float = 5.0


class GraphError(Exception):
    """An error answer in Meta's shape: `{"error": {message, type, code, fbtrace_id, ...}}`."""

    def __init__(self, status: int, code: int, message: str, *, subcode: int | None = None,
                 details: str | None = None, kind: str = "OAuthException") -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.subcode, self.details, self.kind = subcode, details, kind

    def body(self, whatsapp: bool) -> Payload:
        error: Payload = {"message": self.message, "type": self.kind, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.details is not None:
            error["error_data"] = ({"messaging_product": "whatsapp", "details": self.details}
                                   if whatsapp else {"details": self.details})
        error["fbtrace_id"] = "A" + secrets.token_urlsafe(16)
        return {"error": error}


def invalid(message: str, details: str | None = None) -> GraphError:
    return GraphError(400, 100, f"(#100) {message}", details=details)


BAD_TOKEN = GraphError(401, 190, "Invalid OAuth access token - Cannot parse access token")
TEMPLATE_ONLY = "Message failed to send because more than 24 hours have passed since the " \
    "customer last replied to this number."


def outside_window() -> GraphError:
    return GraphError(400, 10, "(#10) This message is sent outside of allowed window. Learn more "
                      "about the new policy here: https://developers.facebook.com/docs/"
                      "messenger-platform/policy-overview", subcode=2018278)


@dataclass
class Send:
    """What a valid send asks for, as the window and fault rules need it."""

    recipient: str
    free_form: bool  # WhatsApp text, or Messenger/Instagram without a tag
    human_agent: bool = False
    text: str = ""


@dataclass
class MetaGraphState(StandinState):
    """Everything the stand-in knows and was sent; tests hold it to look inside."""

    config: StandinConfig = field(default_factory=StandinConfig)
    objects: dict[str, MetaObject] = field(default_factory=dict)
    last_inbound: dict[tuple[str, str], datetime] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    calls: list[Payload] = field(default_factory=list)
    deliveries: list[Payload] = field(default_factory=list)

    def register(self, obj: MetaObject) -> None:
        self.objects[obj.object_id] = obj

    def tell_inbound(self, inbound: Inbound) -> None:
        self.last_inbound[(inbound.object_id, inbound.customer_id)] = (
            inbound.at or datetime.now(UTC))

    def queue_fault(self, fault: Fault) -> None:
        self.faults.append(fault)

    def take_fault(self, object_id: str, recipient: str) -> Fault | None:
        for fault in self.faults:
            if fault.object_id in (None, object_id) and fault.recipient in (None, recipient):
                self.faults.remove(fault)
                return fault
        return None

    def by_token(self, token: str) -> MetaObject | None:
        return next((obj for obj in self.objects.values()
                     if hmac.compare_digest(obj.access_token, token)), None)

    def webhook_url(self, obj: MetaObject) -> str | None:
        if not (self.config.status_webhooks and obj.status_webhooks):
            return None
        return obj.webhook_url or self.config.webhook_url


# Payload rules ------------------------------------------------------------------------------


def whatsapp_send(obj: MetaObject, body: Payload) -> Send:
    if body.get("messaging_product") != "whatsapp":
        raise invalid("The parameter messaging_product is required.",
                      "messaging_product must be 'whatsapp'")
    to = body.get("to")
    if not isinstance(to, str) or not to.lstrip("+").isdigit():
        raise invalid("Invalid parameter", "to must be a phone number (digits, country code "
                      "first)")
    kind = body.get("type", "text")
    if kind == "text":
        text = (body.get("text") or {}).get("body") if isinstance(body.get("text"), dict) else None
        if not isinstance(text, str) or not text:
            raise invalid("The parameter text['body'] is required.")
        if len(text) > WHATSAPP_TEXT_CHARS:
            raise invalid("Invalid parameter",
                          f"text['body'] is longer than {WHATSAPP_TEXT_CHARS} characters")
        return Send(recipient=to.lstrip("+"), free_form=True, text=text)
    if kind == "template":
        check_template(obj, body.get("template"))
        return Send(recipient=to.lstrip("+"), free_form=False,
                    text=f"[template {body['template']['name']}]")
    raise invalid("Invalid parameter", f"type {kind!r}: this stand-in sends text and template")


def check_template(obj: MetaObject, template: Any) -> None:
    if not isinstance(template, dict) or not isinstance(template.get("name"), str):
        raise invalid("The parameter template['name'] is required.")
    if not isinstance((template.get("language") or {}).get("code"), str):
        raise invalid("The parameter template['language']['code'] is required.")
    components = template.get("components", [])
    if not isinstance(components, list):
        raise invalid("Invalid parameter", "template['components'] must be a list")
    if obj.templates is None:
        return
    if template["name"] not in obj.templates:
        raise GraphError(404, 132001, "(#132001) Template name does not exist in the "
                         "translation", details=f"template name ({template['name']}) does "
                         f"not exist in {template['language']['code']}")
    body_params = [param for component in components if component.get("type") == "body"
                   for param in component.get("parameters", [])]
    if len(body_params) != obj.templates[template["name"]]:
        raise GraphError(400, 132000, "(#132000) Number of parameters does not match the "
                         "expected number of params", details=f"body: number of "
                         f"localizable_params ({len(body_params)}) does not match the expected "
                         f"number of params ({obj.templates[template['name']]})")


def messaging_send(obj: MetaObject, body: Payload) -> Send:
    recipient = (body.get("recipient") or {}).get("id") \
        if isinstance(body.get("recipient"), dict) else None
    if not isinstance(recipient, str) or not recipient:
        raise invalid("The parameter recipient is required")
    messaging_type = body.get("messaging_type")
    if messaging_type not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
        raise invalid("Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}")
    if messaging_type == "MESSAGE_TAG" and body.get("tag") != "HUMAN_AGENT":
        raise invalid("Param tag must be HUMAN_AGENT (the one tag this stand-in knows)")
    message = body.get("message")
    text = message.get("text") if isinstance(message, dict) else None
    if not isinstance(text, str) or not text:
        raise invalid("The parameter message['text'] is required")
    if obj.kind == "messenger" and len(text) >= MESSENGER_TEXT_CHARS:
        raise invalid(f"Length of param message[text] must be less than or equal to "
                      f"{MESSENGER_TEXT_CHARS - 1}")
    if obj.kind == "instagram" and len(text.encode()) > INSTAGRAM_TEXT_BYTES:
        raise invalid(f"Length of param message[text] must be less than or equal to "
                      f"{INSTAGRAM_TEXT_BYTES} bytes")
    tagged = messaging_type == "MESSAGE_TAG"
    return Send(recipient=recipient, free_form=not tagged, human_agent=tagged, text=text)


def check_window(state: MetaGraphState, obj: MetaObject, send: Send, now: datetime) -> None:
    last = state.last_inbound.get((obj.object_id, send.recipient))
    if last is None:
        return  # nothing told: open, so the local demo works
    age = now - last
    if obj.kind == "whatsapp":
        if send.free_form and age > WINDOW:
            raise GraphError(400, 131047, "(#131047) Re-engagement message",
                             details=TEMPLATE_ONLY)
    elif age > (HUMAN_AGENT_WINDOW if send.human_agent else WINDOW):
        raise outside_window()


def success(obj: MetaObject, body: Payload, send: Send) -> Payload:
    if obj.kind != "whatsapp":
        return {"recipient_id": send.recipient, "message_id": new_mid()}
    message: Payload = {"id": new_wamid()}
    if body.get("type") == "template":
        message["message_status"] = "accepted"
    return {"messaging_product": "whatsapp",
            "contacts": [{"input": body["to"], "wa_id": send.recipient}], "messages": [message]}


# Status webhooks ----------------------------------------------------------------------------


# How long a send whose status is posted first waits for that webhook's answer.
STATUS_FIRST_WAIT = 3.0


@dataclass(frozen=True)
class StatusWebhooks:
    """The status webhooks of one accepted send: posted after the answer, or before it."""

    post: Callable[[], Awaitable[None]]
    before_answer: bool = False


async def post_statuses(state: MetaGraphState, obj: MetaObject, url: str, wamid: str,
                        recipient: str, fault: Fault | None) -> None:
    if fault is not None:
        statuses = [("failed", [{"code": fault.code, "title": fault.message}])]
    else:
        names = ["sent", "delivered"] + ["read"] * state.config.read_receipts
        statuses = [(name, []) for name in names]
    for status, errors in statuses:
        await asyncio.sleep(state.config.status_delay)
        payload = whatsapp_status(obj.object_id, wamid, status, recipient, errors=errors,
                                  waba_id=obj.business_account_id,
                                  display_phone_number=obj.display_phone_number)
        await deliver(state, obj, url, payload, recipient)


async def deliver(state: MetaGraphState, obj: MetaObject, url: str, payload: Payload,
                  recipient: str) -> None:
    """POST one signed webhook, as Meta does: again on a non-200 answer, with backoff."""
    body, headers = signed_request(obj.app_secret, payload)
    headers["User-Agent"] = "facebookexternalua"
    record: Payload = {"object_id": obj.object_id, "recipient": recipient, "url": url,
                       "payload": payload, "signature": headers["X-Hub-Signature-256"],
                       "attempts": [], "delivered": False}
    state.keep(state.deliveries, record)
    config = state.config
    record["attempts"], record["delivered"] = await state.post_retrying(
        url, attempts=config.webhook_attempts, backoff=config.webhook_backoff,
        client_timeout=config.webhook_timeout, accepted=lambda status: status == 200,
        content=body, headers=headers)
    if record["delivered"]:
        return
    log.info(json.dumps({"msg": "status webhook given up", "url": url,
                         "object_id": obj.object_id, "attempts": record["attempts"]}))


# HTTP ---------------------------------------------------------------------------------------


def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.query_params.get("access_token", "")


def redacted(request: Request) -> dict[str, str]:
    return {name: ("Bearer <redacted>" if name == "authorization" else value)
            for name, value in request.headers.items()}


def answer_send(state: MetaGraphState, target: str, token: str, body: Any,
                ) -> tuple[MetaObject | None, Send | None, Payload, int, StatusWebhooks | None]:
    """(object, send, answer, status, the posting of its status webhooks) for one send, after
    every rule of the contract."""
    obj = state.by_token(token) if target == "me" else state.objects.get(target)
    send: Send | None = None
    try:
        if obj is None and target != "me" and state.by_token(token) is not None:
            raise GraphError(400, 100, f"Unsupported post request. Object with ID '{target}' "
                             "does not exist, cannot be loaded due to missing permissions, or "
                             "does not support this operation", subcode=33,
                             kind="GraphMethodException")
        if obj is None or not token or not hmac.compare_digest(obj.access_token, token):
            raise BAD_TOKEN
        if not isinstance(body, dict):
            raise invalid("The request body must be a JSON object")
        send = whatsapp_send(obj, body) if obj.kind == "whatsapp" else messaging_send(obj, body)
        fault = state.take_fault(obj.object_id, send.recipient)
        if fault is not None and not (fault.as_status and obj.kind == "whatsapp"):
            raise GraphError(fault.status, fault.code, fault.message, subcode=fault.error_subcode,
                             details=fault.message)
        check_window(state, obj, send, datetime.now(UTC))
    except GraphError as error:
        whatsapp = obj is not None and obj.kind == "whatsapp"
        return obj, send, error.body(whatsapp), error.status, None
    assert obj is not None  # every refusal raised above
    assert send is not None
    answer = success(obj, body, send)
    url = state.webhook_url(obj)
    if obj.kind == "whatsapp" and url:
        wamid, recipient = answer["messages"][0]["id"], send.recipient
        return obj, send, answer, 200, StatusWebhooks(
            lambda: post_statuses(state, obj, url, wamid, recipient, fault),
            before_answer=fault is not None and fault.status_first)
    return obj, send, answer, 200, None


def create_app(state: MetaGraphState) -> Starlette:
    async def send_message(request: Request) -> Response:
        raw = await request.body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        token = bearer(request)
        obj, send, answer, status, statuses = answer_send(
            state, request.path_params["target"], token, body)
        if statuses is not None:
            posting = state.in_background(statuses.post)
            if statuses.before_answer:  # bounded: a slow receiver never times the send out
                await asyncio.wait({posting}, timeout=STATUS_FIRST_WAIT)
        record = {"seq": next(state.sequence), "at": datetime.now(UTC).isoformat(),
                  "method": request.method, "path": request.url.path,
                  "object_id": obj.object_id if obj else request.path_params["target"],
                  "kind": obj.kind if obj else None,
                  "recipient": send.recipient if send else None, "headers": redacted(request),
                  "auth_ok": bool(obj and token and hmac.compare_digest(obj.access_token,
                                                                         token)),
                  "body": body if body is not None else raw.decode(errors="replace"),
                  "status": status, "answer": answer}
        state.keep(state.calls, record)
        log.info(json.dumps({"msg": "send", "object_id": record["object_id"],
                             "kind": record["kind"], "recipient": record["recipient"],
                             "status": status, "text": send.text if send else None,
                             "answer": answer}, ensure_ascii=False))
        return JSONResponse(answer, status_code=status)

    async def objects(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse({"objects": [
                obj.model_dump(exclude={"access_token", "app_secret"})
                for obj in state.objects.values()]})
        return await apply_control(request, MetaObject, state.register)

    async def inbound(request: Request) -> Response:
        return await apply_control(request, Inbound, state.tell_inbound)

    async def faults(request: Request) -> Response:
        return await apply_control(request, Fault, state.queue_fault)

    keys = ("object_id", "recipient")
    return standin_app(state, [
        Route("/{version:str}/{target:str}/messages", send_message, methods=["POST"]),
        Route("/_standin/objects", objects, methods=["GET", "POST"]),
        Route("/_standin/inbound", inbound, methods=["POST"]),
        Route("/_standin/faults", faults, methods=["POST"]),
        Route("/_standin/faults", drop_faults(state.faults, keys), methods=["DELETE"]),
        Route("/_standin/calls", listing(state.calls, "calls", keys)),
        Route("/_standin/webhooks", listing(state.deliveries, "deliveries", keys)),
    ], lambda: {"objects": len(state.objects)})


@dataclass(frozen=True)
class RunningStandin:
    url: str  # the Graph base URL (what SIMPTU_META_GRAPH_URL holds)
    state: MetaGraphState


@contextlib.asynccontextmanager
async def serve(config: StandinConfig | None = None, *, host: str = "127.0.0.1",
                port: int = 0) -> AsyncIterator[RunningStandin]:
    """The stand-in served in this event loop, with a handle to its state."""
    state = MetaGraphState(config=config or StandinConfig())
    async with serving(create_app(state), host=host, port=port) as url:
        yield RunningStandin(url, state)


def main(argv: list[str] | None = None) -> None:
    parser = standin_parser(
        "meta_graph", "Serve the local stand-in of Meta's Graph API (WhatsApp Cloud API, "
        "Messenger and Instagram sends) with its /_standin/ control endpoints.",
        DevstackSettings().meta_graph_port)
    parser.add_argument("--webhook-url", help="where WhatsApp status webhooks are posted")
    parser.add_argument("--no-status-webhooks", action="store_true",
                        help="post no status webhooks at all")
    args = parser.parse_args(argv)
    state = MetaGraphState(config=StandinConfig(webhook_url=args.webhook_url,
                                                status_webhooks=not args.no_status_webhooks))
    run_standin(create_app(state), args.host, args.port)


if __name__ == "__main__":
    main()
