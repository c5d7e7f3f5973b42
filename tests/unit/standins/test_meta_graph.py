"""The Graph API stand-in keeps Meta's contract: tokens (190), payload limits (100), the 24-hour
window (131047, #10, HUMAN_AGENT for 7 days), queued faults, and signed status webhooks."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simptu.devstack.standins.meta_control import MetaGraphControl
from simptu.devstack.standins.meta_graph import (
    MetaGraphState,
    RunningStandin,
    StandinConfig,
    serve,
    serving,
)
from simptu.devstack.standins.meta_payloads import sign

CUSTOMER, PSID = "40722123456", "6543210987654321"


@dataclass
class Receiver:
    """An HTTP endpoint standing where the API's webhook would: it keeps the raw bodies and
    their signatures, answering 500 to the first `failures[phone_number_id]` deliveries."""

    failures: dict[str, int] = field(default_factory=dict)
    received: list[tuple[bytes, str]] = field(default_factory=list)

    async def webhook(self, request: Request) -> Response:
        body = await request.body()
        object_id = json.loads(body)["entry"][0]["changes"][0]["value"]["metadata"][
            "phone_number_id"]
        if self.failures.get(object_id, 0) > 0:
            self.failures[object_id] -= 1
            return Response(status_code=500)
        self.received.append((body, request.headers["x-hub-signature-256"]))
        return Response("EVENT_RECEIVED")

    def deliveries(self, object_id: str) -> list[tuple[bytes, str]]:
        return [(body, signature) for body, signature in self.received
                if json.loads(body)["entry"][0]["changes"][0]["value"]["metadata"][
                    "phone_number_id"] == object_id]

    def statuses(self, object_id: str) -> list[dict[str, Any]]:
        return [json.loads(body)["entry"][0]["changes"][0]["value"]["statuses"][0]
                for body, _ in self.deliveries(object_id)]


@dataclass(frozen=True)
class Servers:
    graph: RunningStandin
    receiver: Receiver


@pytest.fixture(scope="session")
async def servers() -> AsyncIterator[Servers]:
    """One stand-in and one receiver for the module; each test registers objects of its own,
    as tests do on the stack's shared stand-in."""
    hook = Receiver()
    app = Starlette(routes=[Route("/v1/webhooks/meta", hook.webhook, methods=["POST"])])
    async with serving(app) as url:
        config = StandinConfig(webhook_url=f"{url}/v1/webhooks/meta", status_delay=0,
                               webhook_backoff=0.01)
        async with serve(config) as graph:
            yield Servers(graph, hook)


@dataclass(frozen=True)
class Objects:
    """A WhatsApp number, a Page and an Instagram account registered for one test."""

    wa: str
    page: str
    ig: str

    @staticmethod
    def token(object_id: str) -> str:
        return f"{object_id}-token"

    @staticmethod
    def secret(object_id: str) -> str:
        return f"{object_id}-app-secret"


@pytest.fixture
async def objects(servers: Servers) -> Objects:
    made = Objects(*(str(secrets.randbelow(10**14) + 10**14) for _ in range(3)))
    for object_id, kind in ((made.wa, "whatsapp"), (made.page, "messenger"),
                            (made.ig, "instagram")):
        answer = await control(servers.graph, "objects", {
            "object_id": object_id, "kind": kind, "access_token": Objects.token(object_id),
            "app_secret": Objects.secret(object_id)})
        assert answer.status_code == 200
    return made


@pytest.fixture
def graph(servers: Servers) -> RunningStandin:
    return servers.graph


async def post(graph: RunningStandin, target: str, body: dict[str, Any],
               token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token or Objects.token(target)}"}
    async with httpx.AsyncClient(base_url=graph.url) as http:
        return await http.post(f"/v24.0/{target}/messages", json=body, headers=headers)


async def control(graph: RunningStandin, path: str, body: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=graph.url) as http:
        return await http.post(f"/_standin/{path}", json=body)


def whatsapp_text(text: str, to: str = CUSTOMER) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
            "type": "text", "text": {"body": text}}


def whatsapp_template(to: str = CUSTOMER) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": to, "type": "template", "template": {
        "name": "booking_reminder", "language": {"code": "ro"}, "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "mâine, 10:00"}]}]}}


def messenger_text(text: str, recipient: str = PSID, **extra: str) -> dict[str, Any]:
    return {"recipient": {"id": recipient}, "messaging_type": "RESPONSE",
            "message": {"text": text}, **extra}


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


async def test_a_whatsapp_text_gets_the_documented_answer_and_is_recorded(
        graph: RunningStandin, objects: Objects) -> None:
    first = await post(graph, objects.wa, whatsapp_text("Bună ziua! Vă așteptăm mâine 🦷"))
    second = await post(graph, objects.wa, whatsapp_text("La revedere"))

    assert first.status_code == 200
    body = first.json()
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": CUSTOMER, "wa_id": CUSTOMER}]
    assert body["messages"][0]["id"].startswith("wamid.")
    assert body["messages"][0]["id"] != second.json()["messages"][0]["id"]
    async with httpx.AsyncClient(base_url=graph.url) as http:
        calls = (await http.get("/_standin/calls",
                                params={"object_id": objects.wa})).json()["calls"]
    assert [c["body"]["text"]["body"] for c in calls] == ["Bună ziua! Vă așteptăm mâine 🦷",
                                                         "La revedere"]
    assert calls[0]["auth_ok"] is True
    assert calls[0]["headers"]["authorization"] == "Bearer <redacted>"
    assert calls[0]["path"] == f"/v24.0/{objects.wa}/messages"
    assert calls[0]["answer"] == body


async def test_a_wrong_or_missing_token_is_refused_with_190(
        graph: RunningStandin, objects: Objects) -> None:
    wrong = await post(graph, objects.wa, whatsapp_text("hi"), token=Objects.token(objects.page))
    async with httpx.AsyncClient(base_url=graph.url) as http:
        missing = await http.post(f"/v24.0/{objects.ig}/messages", json=messenger_text("hi"))
    unknown_me = await post(graph, "me", messenger_text("hi"), token="not-a-token")

    for answer in (wrong, missing, unknown_me):
        assert answer.status_code == 401
        error = answer.json()["error"]
        assert (error["type"], error["code"]) == ("OAuthException", 190)
        assert error["fbtrace_id"]
    mine = [call for call in graph.state.calls if call["object_id"] in (objects.wa, objects.ig)]
    assert [call["auth_ok"] for call in mine] == [False, False]


async def test_a_page_id_no_one_registered_is_refused(
        graph: RunningStandin, objects: Objects) -> None:
    answer = await post(graph, "999999999999999", messenger_text("hi"),
                        token=Objects.token(objects.page))
    assert answer.status_code == 400
    assert (answer.json()["error"]["code"], answer.json()["error"]["error_subcode"]) == (100, 33)


async def test_invalid_payloads_get_code_100(graph: RunningStandin, objects: Objects) -> None:
    wa, page, ig = objects.wa, objects.page, objects.ig
    no_product = {key: value for key, value in whatsapp_text("hi").items()
                  if key != "messaging_product"}
    refused = [
        await post(graph, wa, no_product),
        await post(graph, wa, {**whatsapp_text(""), "to": "not a number"}),
        await post(graph, wa, whatsapp_text("a" * 4097)),
        await post(graph, wa, {**whatsapp_text("hi"), "type": "sticker"}),
        await post(graph, page, messenger_text("a" * 2000)),
        await post(graph, page, {"recipient": {"id": PSID}, "message": {"text": "no type"}}),
        await post(graph, page, messenger_text("hi", messaging_type="MESSAGE_TAG",
                                               tag="ACCOUNT_UPDATE")),
        await post(graph, ig, messenger_text("ă" * 501)),  # 1002 bytes
    ]
    accepted = [
        await post(graph, wa, whatsapp_text("a" * 4096)),
        await post(graph, page, messenger_text("a" * 1999)),
        await post(graph, ig, messenger_text("ă" * 500)),  # 1000 bytes
    ]

    assert [(a.status_code, a.json()["error"]["code"]) for a in refused] == [(400, 100)] * 8
    assert [a.status_code for a in accepted] == [200] * 3


async def test_whatsapp_free_form_is_refused_24_hours_after_the_customer_wrote(
        graph: RunningStandin, objects: Objects) -> None:
    late, recent = "40722000001", "40722000002"
    await control(graph, "inbound", [
        {"object_id": objects.wa, "customer_id": late, "at": ago(hours=24, minutes=1)},
        {"object_id": objects.wa, "customer_id": recent, "at": ago(hours=23, minutes=59)}])

    closed = await post(graph, objects.wa, whatsapp_text("Mai aveți nevoie?", to=late))
    template = await post(graph, objects.wa, whatsapp_template(to=late))
    open_ = await post(graph, objects.wa, whatsapp_text("Da, vă aștept", to=recent))
    never_told = await post(graph, objects.wa, whatsapp_text("Salut", to="40722000003"))

    assert closed.status_code == 400
    assert closed.json()["error"]["code"] == 131047
    assert closed.json()["error"]["error_data"]["messaging_product"] == "whatsapp"
    assert template.status_code == 200
    assert template.json()["messages"][0]["message_status"] == "accepted"
    assert (open_.status_code, never_told.status_code) == (200, 200)


async def test_messenger_and_instagram_refuse_outside_24_hours_unless_a_human_agent_within_7_days(
        graph: RunningStandin, objects: Objects) -> None:
    await control(graph, "inbound", [
        {"object_id": objects.page, "customer_id": PSID, "at": ago(days=2)},
        {"object_id": objects.ig, "customer_id": PSID, "at": ago(days=7, minutes=1)}])
    human = {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    page_token, ig_token = Objects.token(objects.page), Objects.token(objects.ig)

    bot_on_page = await post(graph, objects.page, messenger_text("Bot reply"))
    staff_on_page = await post(graph, objects.page, messenger_text("Staff reply", **human))
    bot_on_me = await post(graph, "me", messenger_text("Bot reply"), token=page_token)
    staff_on_ig = await post(graph, "me", messenger_text("Staff reply", **human), token=ig_token)

    for refused in (bot_on_page, bot_on_me, staff_on_ig):
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == 10
        assert refused.json()["error"]["message"].startswith(
            "(#10) This message is sent outside of allowed window")
    assert staff_on_page.status_code == 200
    assert staff_on_page.json()["recipient_id"] == PSID
    assert staff_on_page.json()["message_id"].startswith("m_")
    on_ig = [call for call in graph.state.calls if call["object_id"] == objects.ig]
    assert [call["path"] for call in on_ig] == ["/v24.0/me/messages"]  # resolved by its token


async def test_queued_faults_answer_the_next_matching_sends_once_each(
        graph: RunningStandin, objects: Objects) -> None:
    other = "40722000009"
    async with httpx.AsyncClient() as http:
        standin = MetaGraphControl(http, graph.url)
        await standin.fault(130429, status=429, message="(#130429) Rate limit hit",
                            object_id=objects.wa, recipient=CUSTOMER)
        await standin.fault(2, status=500, message="Service temporarily unavailable",
                            object_id=objects.wa)

        answers = [await post(graph, objects.wa, whatsapp_text("1", to=other)),
                   await post(graph, objects.wa, whatsapp_text("2")),
                   await post(graph, objects.wa, whatsapp_text("3")),
                   await post(graph, objects.page, messenger_text("4"))]
        to_customer = await standin.wait_for_calls(2, object_id=objects.wa, recipient=CUSTOMER)

    assert [(a.status_code, a.json().get("error", {}).get("code")) for a in answers] == [
        (500, 2), (429, 130429), (200, None), (200, None)]
    assert [call["status"] for call in to_customer] == [429, 200]


async def test_whatsapp_statuses_are_posted_in_order_and_signed_with_the_app_secret(
        servers: Servers, objects: Objects) -> None:
    servers.receiver.failures[objects.wa] = 1  # the first delivery gets 500: it comes again

    answer = await post(servers.graph, objects.wa, whatsapp_text("Confirmat: mâine 10:00 ✅"))
    await servers.graph.state.settled()

    wamid = answer.json()["messages"][0]["id"]
    statuses = servers.receiver.statuses(objects.wa)
    assert [(s["id"], s["status"], s["recipient_id"]) for s in statuses] == [
        (wamid, "sent", CUSTOMER), (wamid, "delivered", CUSTOMER), (wamid, "read", CUSTOMER)]
    for body, signature in servers.receiver.deliveries(objects.wa):
        assert signature == sign(Objects.secret(objects.wa), body)
        assert json.loads(body)["object"] == "whatsapp_business_account"
    first = next(d for d in servers.graph.state.deliveries if d["object_id"] == objects.wa)
    assert [attempt["status"] for attempt in first["attempts"]] == [500, 200]


async def test_a_fault_as_status_is_accepted_then_reported_failed(
        servers: Servers, objects: Objects) -> None:
    await control(servers.graph, "faults", {"object_id": objects.wa, "code": 131047,
                                            "as_status": True, "message": "Re-engagement message"})

    answer = await post(servers.graph, objects.wa, whatsapp_text("Prea târziu"))
    await servers.graph.state.settled()

    assert answer.status_code == 200
    [status] = servers.receiver.statuses(objects.wa)
    assert (status["status"], status["id"]) == ("failed", answer.json()["messages"][0]["id"])
    assert status["errors"][0]["code"] == 131047
    assert status["errors"][0]["title"] == "Re-engagement message"


async def test_a_status_first_fault_posts_its_status_before_the_send_is_answered(
        servers: Servers, objects: Objects) -> None:
    await control(servers.graph, "faults", {"object_id": objects.wa, "code": 131026,
                                            "as_status": True, "status_first": True})

    answer = await post(servers.graph, objects.wa, whatsapp_text("Bună"))

    assert answer.status_code == 200
    [status] = servers.receiver.statuses(objects.wa)  # already there: nothing was awaited
    assert (status["status"], status["id"]) == ("failed", answer.json()["messages"][0]["id"])
    assert status["errors"][0]["code"] == 131026


async def test_status_webhooks_can_be_turned_off_per_object(servers: Servers) -> None:
    quiet = "104857600999002"
    await control(servers.graph, "objects", {
        "object_id": quiet, "kind": "whatsapp", "access_token": "quiet-token",
        "app_secret": "s", "status_webhooks": False})

    answer = await post(servers.graph, quiet, whatsapp_text("hi"), token="quiet-token")
    await servers.graph.state.settled()

    assert answer.status_code == 200
    assert servers.receiver.deliveries(quiet) == []


async def test_control_endpoints_refuse_what_they_cannot_read(graph: RunningStandin) -> None:
    faults_before = list(graph.state.faults)
    bad_kind = await control(graph, "objects", {"object_id": "1", "kind": "telegram",
                                                "access_token": "t", "app_secret": "s"})
    bad_fault = await control(graph, "faults", {"status": 429})
    assert (bad_kind.status_code, bad_fault.status_code) == (422, 422)
    assert "1" not in graph.state.objects
    assert graph.state.faults == faults_before


def test_only_the_newest_records_are_kept() -> None:
    state = MetaGraphState(config=StandinConfig(max_records=2))
    for seq in range(3):
        state.keep(state.calls, {"seq": seq})
    assert [record["seq"] for record in state.calls] == [1, 2]
