"""Whole conversations on Meta's channels through the stack: the agent books by WhatsApp in
Romanian, the senders deliver through the Graph API stand-in, and what the provider says
(throttling, a closed window, a refused token) is honoured, recorded and shown."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import re
import time
import uuid
import zoneinfo
from typing import Any

import asyncpg
import httpx
import pytest
from kubernetes import client as k8s

from simptu.devstack.demo_tokens import demo_token
from simptu.devstack.envfile import StackEnv
from simptu.devstack.standins.meta_payloads import messenger_message, whatsapp_text
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.tenancy import TenantNames
from tests.integration.channels.conftest import CLINIC, GYM, Meta, new_customer, until

MONTHS = ("ianuarie", "februarie", "martie", "aprilie", "mai", "iunie", "iulie", "august",
          "septembrie", "octombrie", "noiembrie", "decembrie")
WAIT = 60.0


def a_weekday_next_week() -> dt.date:
    """A working day 8 to 20 days ahead, at random: bookings of earlier runs of the suite on
    one stack never fill it."""
    days = [dt.date.today() + dt.timedelta(days=ahead) for ahead in range(8, 21)]
    return random.choice([day for day in days if day.weekday() < 5])  # noqa: S311 - no secret


async def say(meta: Meta, customer: str, text: str, replies_before: int,
              at: float | None = None) -> str:
    """The customer writes on WhatsApp; the agent's next reply, as the stand-in received it."""
    whatsapp = meta.channel(CLINIC, "whatsapp")
    answer = await meta.post(whatsapp_text(whatsapp.object_id, customer, text, at=at),
                             whatsapp.app_secret)
    assert answer.json()["messages"] == 1, answer.text
    calls = await meta.graph.wait_for_calls(replies_before + 1, object_id=whatsapp.object_id,
                                            recipient=customer, within=WAIT)
    body: str = calls[-1]["body"]["text"]["body"]
    return body


async def staff_token(stack: StackEnv, slug: str) -> str:
    """A token of the demo tenant's demo staff member."""
    async with httpx.AsyncClient(timeout=20) as http:
        answer = await demo_token(http, f"{stack['SIMPTU_KEYCLOAK_URL']}/realms/{slug}", "staff")
    token: str = answer["access_token"]
    return token


async def deliveries_of(meta: Meta, slug: str, customer: str, kind: str,
                        count: int = 1) -> list[Any]:
    """The conversation's delivery records, once `count` of them are settled."""
    session = await meta.session(slug, kind, customer)
    assert session is not None
    async with asyncio.timeout(WAIT):
        while True:
            rows = await meta.deliveries(slug, session["id"])
            settled = [r for r in rows if r["status"] not in ("pending", "sending")]
            if len(settled) >= count:
                return rows
            await asyncio.sleep(0.2)


async def book_by_whatsapp(meta: Meta, customer: str) -> tuple[dt.date, str, Any]:
    """A customer books a scaling next week in Romanian: the day, the time and the booking."""
    for asked_before in range(3):  # a day earlier runs on this stack filled: another one
        day = a_weekday_next_week()
        offer = await say(meta, customer, "Bună ziua, vreau o programare pentru detartraj pe "
                          f"{day.day} {MONTHS[day.month - 1]}, după-amiază", asked_before)
        if times := re.findall(r"\b\d{1,2}:\d{2}\b", offer):
            break
    assert times, offer
    replies = asked_before + 1
    asked = await say(meta, customer, times[0], replies)
    assert "nume" in asked, asked
    proposal = await say(meta, customer, "Maria Ionescu", replies + 1)
    assert "Confirmați" in proposal, proposal
    assert times[0] in proposal, proposal
    booked = await say(meta, customer, "da", replies + 2)
    assert "confirmată" in booked, booked
    session = await meta.session(CLINIC, "whatsapp", customer)
    assert session is not None
    async with TenantUnitOfWork(meta.db, TenantNames(CLINIC)) as conn:
        customer_id = await conn.fetchval("SELECT customer_id FROM chat_sessions WHERE id = $1",
                                          session["id"])
        [booking] = await conn.fetch("SELECT id, start_at, status FROM bookings "
                                     "WHERE customer_id = $1", customer_id)
    return day, times[0], booking


async def test_a_whatsapp_conversation_in_romanian_books_an_appointment(meta: Meta) -> None:
    customer = new_customer()
    day, time_of_day, booking = await book_by_whatsapp(meta, customer)
    assert booking["status"] == "booked"
    hour, minute = map(int, time_of_day.split(":"))
    local = booking["start_at"].astimezone(zoneinfo.ZoneInfo("Europe/Bucharest"))
    assert (local.date(), local.hour, local.minute) == (day, hour, minute)
    # The stand-in reports each reply sent, delivered and read: the records follow.
    session = await meta.session(CLINIC, "whatsapp", customer)
    assert session is not None
    async with asyncio.timeout(WAIT):
        while {r["status"] for r in await meta.deliveries(CLINIC, session["id"])} != {"read"}:  # noqa: ASYNC110 - polling the database
            await asyncio.sleep(0.2)


async def bring_forward(meta: Meta, booking_id: uuid.UUID, status: str = "booked") -> None:
    """Time passes: the booking is now some hours away (its status as given), at a time its
    room or doctor is free (other tests' bookings were brought forward too)."""
    for _ in range(20):
        try:
            async with TenantUnitOfWork(meta.db, TenantNames(CLINIC)) as conn:
                await conn.execute(
                    "UPDATE bookings SET status = $2, start_at = start_at - d, "
                    "end_at = end_at - d, busy_until = busy_until - d FROM (SELECT start_at - "
                    "(now() + interval '1 hour' + random() * interval '20 hours') AS d "
                    "FROM bookings WHERE id = $1) shift WHERE id = $1", booking_id, status)
            return
        except asyncpg.ExclusionViolationError:
            continue
    raise AssertionError("no free time found within the next day")


async def test_a_booking_made_on_whatsapp_is_reminded_once_with_the_tenants_template(
        meta: Meta) -> None:
    whatsapp, customer = meta.channel(CLINIC, "whatsapp"), new_customer()
    _, _, booking = await book_by_whatsapp(meta, customer)
    texts = len(await meta.graph.calls(whatsapp.object_id, customer))
    await bring_forward(meta, booking["id"])
    calls = await meta.graph.wait_for_calls(texts + 1, object_id=whatsapp.object_id,
                                            recipient=customer)
    template = calls[texts]["body"]
    assert template["type"] == "template"
    assert template["template"]["name"] == "booking_reminder"
    assert template["template"]["language"] == {"code": "ro"}
    parameters = [p["text"] for p in template["template"]["components"][0]["parameters"]]
    assert parameters[0] == "Detartraj"
    await asyncio.sleep(5)  # two more rounds of the reminder job (every 2 s here)
    assert len(await meta.graph.calls(whatsapp.object_id, customer)) == texts + 1


async def test_a_booking_cancelled_before_its_reminder_gets_none(meta: Meta) -> None:
    whatsapp, customer = meta.channel(CLINIC, "whatsapp"), new_customer()
    _, _, booking = await book_by_whatsapp(meta, customer)
    await bring_forward(meta, booking["id"], status="cancelled")
    await asyncio.sleep(5)  # two rounds of the reminder job
    sent = await meta.graph.calls(whatsapp.object_id, customer)
    assert [c["body"]["type"] for c in sent] == ["text"] * len(sent)
    assert len(sent) >= 4  # the booking's conversation, and no reminder


async def test_a_throttled_send_is_sent_once_after_backing_off(meta: Meta) -> None:
    whatsapp, customer = meta.channel(CLINIC, "whatsapp"), new_customer()
    await meta.graph.fault(130429, status=429, object_id=whatsapp.object_id, recipient=customer,
                           message="(#130429) Rate limit hit")
    await say(meta, customer, "Cât costă o consultație?", 1)
    calls = await meta.graph.calls(whatsapp.object_id, customer)
    assert [c["status"] for c in calls] == [429, 200]
    [record] = await deliveries_of(meta, CLINIC, customer, "whatsapp")
    assert (record["status"], record["attempts"]) in (("sent", 2), ("delivered", 2),
                                                      ("read", 2))


async def test_a_closed_window_is_recorded_for_staff_and_never_retried(
        meta: Meta, stack: StackEnv) -> None:
    whatsapp, customer = meta.channel(CLINIC, "whatsapp"), new_customer()
    await meta.graph.fault(131047, object_id=whatsapp.object_id, recipient=customer,
                           message="Re-engagement message")
    answer = await meta.post(whatsapp_text(whatsapp.object_id, customer, "Unde vă găsesc?"),
                             whatsapp.app_secret)
    assert answer.status_code == 200
    [record] = await deliveries_of(meta, CLINIC, customer, "whatsapp")
    assert (record["status"], record["error_code"]) == ("refused", "131047")
    await asyncio.sleep(1.5)  # a retry would have come by now (backoff starts at 1 s)
    assert len(await meta.graph.calls(whatsapp.object_id, customer)) == 1

    session = await meta.session(CLINIC, "whatsapp", customer)
    assert session is not None
    token = await staff_token(stack, CLINIC)
    shown = await meta.api.get(f"/v1/chat/sessions/{session['id']}/deliveries",
                               headers={"Authorization": f"Bearer {token}"})
    assert shown.status_code == 200, shown.text
    [item] = shown.json()["items"]
    assert (item["status"], item["error_code"]) == ("refused", "131047")
    assert "Re-engagement" in item["error_detail"]


async def test_a_failed_status_from_meta_is_recorded_with_its_error(meta: Meta) -> None:
    """Accepted by the Graph API, then reported `failed` (131026, undeliverable) by a webhook
    that comes even before the send is answered (so before the sender recorded Meta's id of
    it): the delivery record staff see says so, with Meta's code and words."""
    whatsapp, customer = meta.channel(CLINIC, "whatsapp"), new_customer()
    await meta.graph.fault(131026, as_status=True, status_first=True,
                           object_id=whatsapp.object_id, recipient=customer,
                           message="Message undeliverable")
    answer = await meta.post(whatsapp_text(whatsapp.object_id, customer, "Bună ziua"),
                             whatsapp.app_secret)
    assert answer.status_code == 200
    session = await meta.session(CLINIC, "whatsapp", customer)
    assert session is not None

    async def failed() -> bool:
        rows = await meta.deliveries(CLINIC, session["id"])
        return [r["status"] for r in rows] == ["failed"]

    await until(failed, WAIT)
    [record] = await meta.deliveries(CLINIC, session["id"])
    assert record["error_code"] == "131026"
    assert "undeliverable" in record["error_detail"]
    assert len(await meta.graph.calls(whatsapp.object_id, customer)) == 1  # never sent again


async def test_replies_after_24_hours_wait_for_staff_who_answer_with_the_human_agent_tag(
        meta: Meta, stack: StackEnv) -> None:
    messenger, psid = meta.channel(GYM, "messenger"), new_customer()
    yesterday = time.time() - 30 * 3600
    answer = await meta.post(messenger_message(messenger.object_id, psid, "Salut, ce clase aveți?",
                                               at=yesterday), messenger.app_secret)
    assert answer.json()["messages"] == 1
    [bot] = await deliveries_of(meta, GYM, psid, "messenger")
    assert (bot["status"], bot["error_code"]) == ("refused", "window-closed")

    session = await meta.session(GYM, "messenger", psid)
    assert session is not None
    token = await staff_token(stack, GYM)
    posted = await meta.api.post(f"/v1/chat/sessions/{session['id']}/messages",
                                 json={"text": "Bună! Avem yoga marți și joi la 18:00."},
                                 headers={"Authorization": f"Bearer {token}"})
    assert posted.status_code == 201, posted.text
    [sent] = await meta.graph.wait_for_calls(1, object_id=messenger.object_id, recipient=psid)
    assert sent["body"]["messaging_type"] == "MESSAGE_TAG"
    assert sent["body"]["tag"] == "HUMAN_AGENT"
    assert sent["status"] == 200


@pytest.fixture
def secrets(kube: k8s.ApiClient) -> k8s.CoreV1Api:
    return k8s.CoreV1Api(kube)


async def test_a_refused_token_shows_on_the_tenant_until_its_secret_is_rotated(
        meta: Meta, secrets: k8s.CoreV1Api, kube: k8s.ApiClient) -> None:
    whatsapp, customer = meta.channel(CLINIC, "whatsapp"), new_customer()
    tenants = k8s.CustomObjectsApi(kube)

    async def channels_condition() -> dict[str, Any]:
        tenant = await asyncio.to_thread(tenants.get_cluster_custom_object, "simptu.io",
                                         "v1alpha1", "tenants", CLINIC)
        return next(c for c in tenant["status"]["conditions"] if c["type"] == "ChannelsReady")

    async def until(status: str) -> dict[str, Any]:
        async with asyncio.timeout(WAIT):
            while (condition := await channels_condition())["status"] != status:  # noqa: ASYNC110 - polling the API server
                await asyncio.sleep(0.5)
        return condition

    await meta.graph.fault(190, status=401, object_id=whatsapp.object_id, recipient=customer,
                           message="Error validating access token: Session has expired")
    await meta.post(whatsapp_text(whatsapp.object_id, customer, "Bună ziua"), whatsapp.app_secret)
    [record] = await deliveries_of(meta, CLINIC, customer, "whatsapp")
    assert (record["status"], record["error_code"]) == ("failed", "190")
    refused = await until("False")
    assert "whatsapp" in refused["message"]
    assert "190" in refused["message"]
    ready = await asyncio.to_thread(tenants.get_cluster_custom_object, "simptu.io", "v1alpha1",
                                    "tenants", CLINIC)
    assert ready["status"]["phase"] == "Ready"  # the web chat and other channels go on

    # Rotating the Secret (a new resourceVersion, as a new token would make) clears it.
    namespace = TenantNames(CLINIC).namespace
    await asyncio.to_thread(secrets.patch_namespaced_secret, "whatsapp", namespace,
                            {"metadata": {"annotations": {"simptu.io/rotated": uuid.uuid4().hex}}})
    await until("True")
