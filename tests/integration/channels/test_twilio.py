"""SMS and calls through Twilio, against the stack: the API checks Twilio's signatures over the
public URL it called, the agent answers, the channel senders text through the Twilio stand-in,
and a call is a conversation spoken turn by turn, as Twilio would post it."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import asyncpg
import httpx
import pytest

from simptu.devstack.demo_channels import demo_twilio_secret
from simptu.devstack.envfile import StackEnv
from simptu.devstack.standins.twilio_control import TwilioControl
from simptu.devstack.standins.twilio_payloads import (
    call_status,
    gather_result,
    inbound_sms,
    incoming_call,
    sign,
)
from simptu.runtime.api.app import create_app
from simptu.runtime.api.settings import ApiSettings
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.tenancy import TenantNames
from tests.integration.channels.conftest import CLINIC, GYM, Meta, until
from tests.integration.channels.test_meta_conversations import (
    MONTHS,
    a_weekday_next_week,
    bring_forward,
)
from tests.integration.channels.test_meta_tenant_channels import kubectl, tenant_status

NUMBER, OTHER_NUMBER = "+40364100200", "+40364100201"
SERVICE = "MG5e8c1f0a2b3d4c5e6f708192a3b4c5d6"


def new_caller() -> str:
    return f"+4075{uuid.uuid4().int % 10**7:07d}"


@dataclass
class Twilio:
    api: httpx.AsyncClient
    standin: TwilioControl
    public: str  # the public base URL the API checks signatures against
    account: dict[str, str]

    async def post(self, path: str, params: dict[str, str], *, token: str | None = None,
                   signed_url: str | None = None) -> httpx.Response:
        """POST `params` to the API as Twilio does, signed for the public URL."""
        url = signed_url or f"{self.public}{path}"
        signature = sign(url, params, token or self.account["authToken"])
        return await self.api.post(path, content=urlencode(params), headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature})

    async def text(self, customer: str, body: str, replies_before: int, *,
                   to: str = NUMBER) -> str:
        """The customer texts the clinic; the next SMS the clinic sent them."""
        answer = await self.post("/v1/webhooks/twilio/sms", inbound_sms(
            self.account["accountSid"], customer, to, body, messaging_service_sid=SERVICE))
        assert answer.status_code == 200, answer.text
        calls = await self.standin.wait_for_calls(replies_before + 1, to=customer, within=60)
        sent: str = calls[-1]["form"]["Body"]
        return sent


@pytest.fixture
async def twilio(stack: StackEnv) -> AsyncIterator[Twilio]:
    async with httpx.AsyncClient(base_url=stack["SIMPTU_API_URL"], timeout=30) as api, \
            httpx.AsyncClient(timeout=20) as http:
        yield Twilio(api, TwilioControl(http, stack["SIMPTU_TWILIO_API_URL"]),
                     stack["SIMPTU_API_URL"], demo_twilio_secret(CLINIC))


def twiml(answer: httpx.Response) -> ET.Element:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/xml")
    return ET.fromstring(answer.text)  # noqa: S314 - our own API's TwiML


async def test_a_signed_sms_is_answered_with_empty_twiml_and_stored_once(
        twilio: Twilio, meta: Meta) -> None:
    customer = new_caller()
    params = inbound_sms(twilio.account["accountSid"], customer, NUMBER,
                         "Bună ziua! Cât costă o consultație? Mulțumesc 🙏")
    first = await twilio.post("/v1/webhooks/twilio/sms", params)
    again = await twilio.post("/v1/webhooks/twilio/sms", params)
    assert [twiml(first).tag, len(twiml(first))] == ["Response", 0]
    assert again.status_code == 200
    [reply] = await twilio.standin.wait_for_calls(1, to=customer)
    assert "Consultație" in reply["form"]["Body"]
    session = await meta.session(CLINIC, "sms", customer)
    assert session is not None
    assert [m["author"] for m in await meta.messages(CLINIC, session["id"])] == [
        "customer", "agent"]


async def test_a_bad_signature_is_refused_and_nothing_is_stored(
        twilio: Twilio, meta: Meta) -> None:
    customer = new_caller()
    params = inbound_sms(twilio.account["accountSid"], customer, NUMBER, "Salut")
    tampered = {**params, "Body": "Altceva"}
    signature = sign(f"{twilio.public}/v1/webhooks/twilio/sms", params,
                     twilio.account["authToken"])
    answers = {
        "tampered parameter": await twilio.api.post(
            "/v1/webhooks/twilio/sms", content=urlencode(tampered), headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature}),
        "another URL": await twilio.post("/v1/webhooks/twilio/sms", params,
                                         signed_url="https://elsewhere.example/sms"),
        "another tenant's token": await twilio.post(
            "/v1/webhooks/twilio/sms", params, token=demo_twilio_secret(GYM)["authToken"]),
        "no signature": await twilio.api.post(
            "/v1/webhooks/twilio/sms", content=urlencode(params),
            headers={"Content-Type": "application/x-www-form-urlencoded"}),
    }
    assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(answers, 403)
    assert await meta.session(CLINIC, "sms", customer) is None


PUBLIC = "https://api.zambet-dental.example"  # where Twilio calls, at the proxy


@pytest.fixture(scope="module")
async def api_behind_proxy(stack: StackEnv) -> AsyncIterator[httpx.AsyncClient]:
    """The API as a proxy reaches it: plain HTTP at an internal address, while Twilio calls
    (and signs) the public https URL of SIMPTU_PUBLIC_BASE_URL."""
    settings = ApiSettings.model_validate(
        {key.removeprefix("SIMPTU_").lower(): value for key, value in stack.values.items()}
        | {"bao_addr": stack["BAO_ADDR"], "bao_auth": "token", "bao_token": stack["BAO_TOKEN"],
           "guest_token_secret": secrets.token_urlsafe(40), "public_base_url": PUBLIC})
    app = create_app(settings)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("10.0.0.7", 40000)),
            base_url="http://10.0.3.9:8000", timeout=30) as internal:
        yield internal


async def test_behind_a_proxy_the_public_https_url_is_checked_not_the_internal_one(
        twilio: Twilio, meta: Meta, api_behind_proxy: httpx.AsyncClient) -> None:
    customer, path = new_caller(), "/v1/webhooks/twilio/sms"
    params = inbound_sms(twilio.account["accountSid"], customer, NUMBER, "Salut")

    async def post(signed_url: str) -> httpx.Response:
        return await api_behind_proxy.post(path, content=urlencode(params), headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": sign(signed_url, params, twilio.account["authToken"])})

    internal = await post(f"http://10.0.3.9:8000{path}")
    assert internal.status_code == 403  # what the API itself was called at: not Twilio's URL
    assert await meta.session(CLINIC, "sms", customer) is None
    public = await post(f"{PUBLIC}{path}")
    assert public.status_code == 200, public.text
    assert await meta.session(CLINIC, "sms", customer) is not None


async def test_a_number_resolves_by_its_messaging_service_or_by_itself(
        twilio: Twilio, meta: Meta) -> None:
    by_service, by_number = new_caller(), new_caller()
    params = inbound_sms(twilio.account["accountSid"], by_service, OTHER_NUMBER, "Salut",
                         messaging_service_sid=SERVICE)
    assert (await twilio.post("/v1/webhooks/twilio/sms", params)).status_code == 200
    unknown_service = inbound_sms(twilio.account["accountSid"], by_number, OTHER_NUMBER,
                                  "Salut", messaging_service_sid="MG" + "0" * 32)
    assert (await twilio.post("/v1/webhooks/twilio/sms", unknown_service)).status_code == 200
    stranger = inbound_sms(twilio.account["accountSid"], by_number, "+40364999999", "Salut")
    assert (await twilio.post("/v1/webhooks/twilio/sms", stranger)).status_code == 404
    for customer in (by_service, by_number):
        assert await meta.session(CLINIC, "sms", customer) is not None


async def book_by_sms(twilio: Twilio, meta: Meta, customer: str) -> tuple[int, uuid.UUID]:
    """The customer books a scaling next week by SMS in Romanian: how many texts they got,
    and the booking's id."""
    for asked_before in range(3):  # a day earlier runs on this stack filled: another one
        day = a_weekday_next_week()
        offer = await twilio.text(customer, "Bună ziua, vreau o programare pentru detartraj "
                                  f"pe {day.day} {MONTHS[day.month - 1]}, după-amiază",
                                  asked_before)
        if times := re.findall(r"\b\d{1,2}:\d{2}\b", offer):
            break
    assert times, offer
    replies = asked_before + 1
    assert "nume" in await twilio.text(customer, times[0], replies)
    assert "Confirmați" in await twilio.text(customer, "Ioana Mureșan", replies + 1)
    assert "confirmată" in await twilio.text(customer, "da", replies + 2)
    session = await meta.session(CLINIC, "sms", customer)
    assert session is not None
    async with TenantUnitOfWork(meta.db, TenantNames(CLINIC)) as conn:
        [booking] = await conn.fetch(
            "SELECT b.id FROM bookings b JOIN chat_sessions s ON s.customer_id = "
            "b.customer_id WHERE s.id = $1 AND b.status = 'booked'", session["id"])
    return replies + 3, booking["id"]


async def test_an_sms_conversation_in_romanian_books_with_status_callbacks(
        twilio: Twilio, meta: Meta) -> None:
    customer = new_caller()
    replies, _ = await book_by_sms(twilio, meta, customer)
    session = await meta.session(CLINIC, "sms", customer)
    assert session is not None

    async def all_delivered() -> bool:
        rows = await meta.deliveries(CLINIC, session["id"])
        return len(rows) == replies and {r["status"] for r in rows} == {"delivered"}

    await until(all_delivered)
    texts = await twilio.standin.calls(to=customer)
    assert all(call["form"]["MessagingServiceSid"] == SERVICE for call in texts)
    assert all(call["form"]["StatusCallback"].endswith("/v1/webhooks/twilio/status")
               for call in texts)

    # Booking made the texter a customer with this number: an access code reaches it.
    tenant = {"X-Simptu-Tenant": CLINIC}
    asked = await twilio.api.post("/v1/access-codes/request", json={"phone": customer},
                                  headers=tenant)
    assert asked.status_code == 202, asked.text
    [*_, code_text] = await twilio.standin.wait_for_calls(replies + 1, to=customer)
    code = re.search(r"\b\d{8}\b", code_text["form"]["Body"])
    assert code is not None, code_text["form"]["Body"]
    redeemed = await twilio.api.post("/v1/access-codes/redeem", headers=tenant,
                                     json={"phone": customer, "code": code[0]})
    assert redeemed.status_code == 200, redeemed.text


async def test_an_access_code_asked_for_an_unknown_number_is_sent_nowhere(
        twilio: Twilio) -> None:
    stranger = new_caller()
    asked = await twilio.api.post("/v1/access-codes/request", json={"phone": stranger},
                                  headers={"X-Simptu-Tenant": CLINIC})
    assert asked.status_code == 202
    assert asked.json()["status"] == "accepted"  # the same answer as for a customer
    assert await twilio.standin.calls(to=stranger) == []


async def test_stop_means_no_texts_until_start(twilio: Twilio, meta: Meta) -> None:
    customer = new_caller()
    stop = await twilio.post("/v1/webhooks/twilio/sms", inbound_sms(
        twilio.account["accountSid"], customer, NUMBER, "STOP"))
    assert stop.status_code == 200
    await twilio.post("/v1/webhooks/twilio/sms", inbound_sms(
        twilio.account["accountSid"], customer, NUMBER, "Cât costă o consultație?"))
    session = await meta.session(CLINIC, "sms", customer)
    assert session is not None

    async def refused() -> bool:
        rows = await meta.deliveries(CLINIC, session["id"])
        return [(r["status"], r["error_code"]) for r in rows] == [("refused", "opted-out")]

    await until(refused)
    assert await twilio.standin.calls(to=customer) == []
    help_answer = await twilio.post("/v1/webhooks/twilio/sms", inbound_sms(
        twilio.account["accountSid"], customer, NUMBER, "HELP"))
    assert "STOP" in twiml(help_answer).findtext("Message", "")
    await twilio.post("/v1/webhooks/twilio/sms", inbound_sms(
        twilio.account["accountSid"], customer, NUMBER, "START"))
    assert "Consultație" in await twilio.text(customer, "Cât costă o consultație?", 0)


async def reminder_of(meta: Meta, booking_id: uuid.UUID) -> asyncpg.Record | None:
    """The delivery record of the booking's reminder, once one was settled."""
    async with TenantUnitOfWork(meta.db, TenantNames(CLINIC)) as conn:
        row: asyncpg.Record | None = await conn.fetchrow(
            "SELECT * FROM channel_deliveries WHERE message_id = $1 "
            "AND status NOT IN ('pending', 'sending')", booking_id)
        return row


async def test_a_booking_made_by_sms_is_reminded_once_by_sms(twilio: Twilio, meta: Meta) -> None:
    customer = new_caller()
    replies, booking_id = await book_by_sms(twilio, meta, customer)
    await bring_forward(meta, booking_id)
    texts = await twilio.standin.wait_for_calls(replies + 1, to=customer, within=60)
    reminder = texts[replies]["form"]["Body"]
    assert "reamintim" in reminder, reminder
    assert "Detartraj" in reminder
    assert "STOP" in reminder

    async def delivered() -> bool:
        record = await reminder_of(meta, booking_id)
        return record is not None and record["status"] == "delivered"

    await until(delivered)  # its status callbacks came back to the booking's record
    await asyncio.sleep(5)  # two more rounds of the reminder job (every 2 s here)
    assert len(await twilio.standin.calls(to=customer)) == replies + 1


async def test_stop_then_a_reminder_sends_nothing(twilio: Twilio, meta: Meta) -> None:
    customer = new_caller()
    replies, booking_id = await book_by_sms(twilio, meta, customer)
    stop = await twilio.post("/v1/webhooks/twilio/sms", inbound_sms(
        twilio.account["accountSid"], customer, NUMBER, "STOP"))
    assert stop.status_code == 200
    await bring_forward(meta, booking_id)

    async def refused() -> bool:
        return await reminder_of(meta, booking_id) is not None

    await until(refused)
    record = await reminder_of(meta, booking_id)
    assert record is not None
    assert (record["status"], record["error_code"]) == ("refused", "opted-out")
    assert len(await twilio.standin.calls(to=customer)) == replies


async def test_twilio_throttling_is_waited_out_and_an_unsubscribed_number_is_remembered(
        twilio: Twilio, meta: Meta) -> None:
    throttled, unsubscribed = new_caller(), new_caller()
    await twilio.standin.fault(20429, status=429, to=throttled, message="Too Many Requests")
    await twilio.text(throttled, "Cât costă o consultație?", 1)
    assert [c["status"] for c in await twilio.standin.calls(to=throttled)] == [429, 201]
    await twilio.standin.opt_out(twilio.account["accountSid"], unsubscribed)
    await twilio.post("/v1/webhooks/twilio/sms", inbound_sms(
        twilio.account["accountSid"], unsubscribed, NUMBER, "Cât costă o consultație?"))
    await twilio.standin.wait_for_calls(1, to=unsubscribed)
    session = await meta.session(CLINIC, "sms", unsubscribed)
    assert session is not None

    async def refused() -> bool:
        rows = await meta.deliveries(CLINIC, session["id"])
        return [(r["status"], r["error_code"]) for r in rows] == [("refused", "21610")]

    await until(refused)
    # Remembered: the next reply is not even tried.
    await twilio.post("/v1/webhooks/twilio/sms", inbound_sms(
        twilio.account["accountSid"], unsubscribed, NUMBER, "Și o plombă?"))

    async def second_refused() -> bool:
        rows = await meta.deliveries(CLINIC, session["id"])
        return len(rows) == 2 and rows[1]["error_code"] == "opted-out"

    await until(second_refused)
    assert len(await twilio.standin.calls(to=unsubscribed)) == 1


async def follow(twilio: Twilio, answer: httpx.Response, call: dict[str, str]) -> ET.Element:
    """Follow `<Redirect>`s as Twilio does, until a document that speaks and listens."""
    document = twiml(answer)
    for _ in range(5):
        redirect = document.find("Redirect")
        if redirect is None or redirect.text is None:
            return document
        document = twiml(await twilio.post(redirect.text, call))
    raise AssertionError("still redirected after 5 polls")


async def speak(twilio: Twilio, call: dict[str, str], document: ET.Element,
                speech: str) -> ET.Element:
    """Say `speech` to the `<Gather>` of `document`: the next document, redirects followed."""
    gather = document.find("Gather")
    assert gather is not None, ET.tostring(document)
    params = gather_result(call["AccountSid"], call["CallSid"], call["From"], call["To"],
                           speech)
    return await follow(twilio, await twilio.post(gather.attrib["action"], params), params)


def spoken(document: ET.Element) -> str:
    return " ".join(say.text or "" for say in document.iter("Say"))


async def test_a_call_books_by_voice_in_romanian_and_hanging_up_closes_it(
        twilio: Twilio, meta: Meta) -> None:
    caller = new_caller()
    call = incoming_call(twilio.account["accountSid"], caller, NUMBER)
    greeting = twiml(await twilio.post("/v1/webhooks/twilio/voice", call))
    gather = greeting.find("Gather")
    assert gather is not None
    assert (gather.attrib["input"], gather.attrib["language"]) == ("speech", "ro-RO")
    assert "Zâmbet Dental" in spoken(greeting)
    # Silence falls through the <Gather> (Twilio posts nothing): a goodbye, then hanging up.
    after = list(greeting)[list(greeting).index(gather) + 1:]
    assert [verb.tag for verb in after] == ["Say", "Hangup"]
    assert "La revedere" in (after[0].text or "")
    offer = greeting
    for _ in range(3):  # a day earlier runs on this stack filled: another one
        day = a_weekday_next_week()
        offer = await speak(twilio, call, offer, "Aș vrea o programare pentru detartraj pe "
                            f"{day.day} {MONTHS[day.month - 1]} după-amiază")
        if times := re.findall(r"\b\d{1,2}:\d{2}\b", spoken(offer)):
            break
    assert times, spoken(offer)
    name = await speak(twilio, call, offer, times[0])
    proposal = await speak(twilio, call, name, "Andrei Pop")
    assert "Confirmați" in spoken(proposal)
    booked = await speak(twilio, call, proposal, "da")
    assert "confirmată" in spoken(booked)
    session = await meta.session(CLINIC, "voice", caller)
    assert session is not None
    async with TenantUnitOfWork(meta.db, TenantNames(CLINIC)) as conn:
        booked_count = await conn.fetchval(
            "SELECT count(*) FROM bookings b JOIN chat_sessions s ON s.customer_id = "
            "b.customer_id WHERE s.id = $1 AND b.status = 'booked'", session["id"])
    assert booked_count == 1
    assert await twilio.standin.calls(to=caller) == []  # a call's replies are never texted
    ended = await twilio.post("/v1/webhooks/twilio/voice/status", call_status(
        call["AccountSid"], call["CallSid"], caller, NUMBER))
    assert ended.status_code == 204
    closed = await meta.session(CLINIC, "voice", caller)
    assert closed is not None
    assert closed["status"] == "closed"


async def test_unclear_speech_is_asked_again_and_a_person_is_put_through(
        twilio: Twilio, meta: Meta, api_behind_proxy: httpx.AsyncClient) -> None:
    caller = new_caller()
    call = incoming_call(twilio.account["accountSid"], caller, NUMBER)
    greeting = twiml(await twilio.post("/v1/webhooks/twilio/voice", call))
    gather = greeting.find("Gather")
    assert gather is not None
    mumbled = gather_result(call["AccountSid"], call["CallSid"], caller, NUMBER, "mmm",
                            confidence=0.12)
    again = twiml(await twilio.post(gather.attrib["action"], mumbled))
    assert "repeta" in spoken(again)
    assert await meta.session(CLINIC, "voice", caller) is None
    person = await speak(twilio, call, again, "Vreau să vorbesc cu un om, vă rog")
    dial = person.find("Dial")
    assert dial is not None, ET.tostring(person)
    assert dial.text == "+40364100299"
    session = await meta.session(CLINIC, "voice", caller)
    assert session is not None
    assert session["status"] == "handed_off"
    # Where no one can be put through, the caller leaves a message: kept for staff.
    message = gather_result(call["AccountSid"], call["CallSid"], caller, NUMBER,
                            "Sunați-mă mâine dimineață")
    left = twiml(await api_behind_proxy.post(
        "/v1/webhooks/twilio/voice/message", content=urlencode(message), headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": sign(f"{PUBLIC}/v1/webhooks/twilio/voice/message", message,
                                       twilio.account["authToken"])}))
    assert [verb.tag for verb in left] == ["Say", "Hangup"]
    customer_said = [m for m in await meta.messages(CLINIC, session["id"])
                     if m["author"] == "customer"]
    assert len(customer_said) == 2


async def test_a_slow_answer_is_a_filler_and_a_redirect_never_silence(
        twilio: Twilio, meta: Meta) -> None:
    """With the conversation already with staff, the agent says nothing: each webhook
    answers within its wait with a filler and a redirect to wait again."""
    caller = new_caller()
    call = incoming_call(twilio.account["accountSid"], caller, NUMBER)
    greeting = twiml(await twilio.post("/v1/webhooks/twilio/voice", call))
    put_through = await speak(twilio, call, greeting, "Dați-mi un operator, vă rog")
    assert put_through.find("Dial") is not None, ET.tostring(put_through)
    gather_action = "/v1/webhooks/twilio/voice/turn?turn=7"
    params = gather_result(call["AccountSid"], call["CallSid"], caller, NUMBER,
                           "Mai sunteți acolo?")
    answer = await twilio.post(gather_action, params)
    document = twiml(answer)
    assert "moment" in spoken(document)
    redirect = document.find("Redirect")
    assert redirect is not None
    assert redirect.text is not None
    assert redirect.text.startswith("/v1/webhooks/twilio/voice/wait?")
    assert answer.elapsed.total_seconds() < 15
    waited = await twilio.post(redirect.text, params)
    assert twiml(waited).find("Redirect") is not None


@pytest.fixture
def texting_tenant(stack: StackEnv, unique: str) -> Iterator[tuple[str, str, str]]:
    """A second business with a Twilio number of its own: (slug, number, auth token)."""
    slug, number = f"{unique}-sms", f"+40356{int(unique[1:], 16) % 10**6:06d}"
    token = f"auth-token-of-{slug}"
    manifest = {"apiVersion": "simptu.io/v1alpha1", "kind": "Tenant", "metadata": {"name": slug},
                "spec": {"displayName": "Cabinet Test", "businessType": "dental-clinic",
                         "deletionPolicy": "Delete", "channels": {"twilio": {
                             "phoneNumbers": [number], "secretRef": {"name": "twilio"}}}}}
    kubectl(stack, "apply", "-f", "-", stdin=json.dumps(manifest))
    try:
        yield slug, number, token
    finally:
        kubectl(stack, "delete", "tenant", slug, "--wait=false")


async def test_a_number_of_one_tenant_never_lands_in_another(
        twilio: Twilio, meta: Meta, stack: StackEnv,
        texting_tenant: tuple[str, str, str]) -> None:
    slug, number, token = texting_tenant
    namespace = TenantNames(slug).namespace

    async def namespace_made() -> bool:
        names = await asyncio.to_thread(kubectl, stack, "get", "ns", "-o", "name")
        return f"namespace/{namespace}" in names.split()

    await until(namespace_made, 120)  # the operator makes it; then the Secret comes
    account = "AC" + uuid.uuid4().hex
    kubectl(stack, "apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "twilio",
                                                         "namespace": namespace},
        "stringData": {"authToken": token, "accountSid": account}}))

    async def ready() -> bool:
        return (await tenant_status(stack, slug)).get("phase") == "Ready"

    await until(ready, 120)
    customer = new_caller()  # writes to both businesses
    theirs = await twilio.post("/v1/webhooks/twilio/sms", inbound_sms(
        account, customer, number, "Bună, aveți program sâmbătă?"), token=token)
    assert theirs.status_code == 200, theirs.text
    ours = await twilio.post("/v1/webhooks/twilio/sms", inbound_sms(
        twilio.account["accountSid"], customer, NUMBER, "Bună, cât costă un detartraj?"))
    assert ours.status_code == 200, ours.text
    forged = await twilio.post("/v1/webhooks/twilio/sms", inbound_sms(
        account, new_caller(), NUMBER, "Salut"), token=token)
    assert forged.status_code == 403  # their token does not speak for the clinic's number

    theirs_session = await meta.session(slug, "sms", customer)
    ours_session = await meta.session(CLINIC, "sms", customer)
    assert theirs_session is not None
    assert ours_session is not None
    assert theirs_session["id"] != ours_session["id"]
    for tenant, session_id in ((slug, theirs_session["id"]), (CLINIC, ours_session["id"])):
        customers = [m for m in await meta.messages(tenant, session_id)
                     if m["author"] == "customer"]
        assert len(customers) == 1, tenant
