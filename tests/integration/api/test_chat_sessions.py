"""Chat sessions through HTTP with real tokens: who sees what, cursor pagination and filters,
sealed history, messages queued through the outbox, close and hand-off."""

from __future__ import annotations

import ipaddress
import json
import re
import uuid
from typing import Any, get_args

import asyncpg
import httpx
from fastapi import FastAPI

from simptu.runtime.api.chat_models import Channel
from simptu.runtime.core.database import TenantUnitOfWork
from tests.integration.api.conftest import ApiTenant, UserHeaders, client_of
from tests.integration.api.test_behaviour import assert_problem

SESSIONS = "/v1/chat/sessions"


async def every_page(api: httpx.AsyncClient, path: str, headers: dict[str, str],
                     **filters: str) -> list[dict[str, Any]]:
    """Every item of a list, read two at a time by following `next_cursor`."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": "2", **filters} | ({"cursor": cursor} if cursor else {})
        page = (await api.get(path, params=params, headers=headers)).json()
        assert len(page["items"]) <= 2
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def stored_and_queued(db: asyncpg.Pool, tenant: ApiTenant, stored_sql: str,
                            session_id: str) -> tuple[bytes, list[asyncpg.Record]]:
    """What the database holds of a session (`stored_sql` of its id) and the outbox rows
    queued for it (keyed by its id)."""
    async with TenantUnitOfWork(db, tenant.names) as conn:
        stored = await conn.fetchval(stored_sql, uuid.UUID(session_id))
        queued = await conn.fetch("SELECT topic, key, event FROM outbox WHERE key = $1",
                                  session_id.encode())
    return stored, list(queued)


async def guest_headers(app: FastAPI, tenant: ApiTenant) -> tuple[dict[str, str], str]:
    """A guest token of a visitor of its own (address), so no test meets the rate limit."""
    address = str(ipaddress.IPv4Address(0x0A000000 + uuid.uuid4().int % 0xFFFFFF))
    async with client_of(app, address) as visitor:
        answer = await visitor.post("/v1/chat/guest", json={"locale": "ro"},
                                    headers={"Host": tenant.host, "Origin": tenant.origin})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    return {"Host": tenant.host, "Authorization": f"Bearer {body['token']}"}, body["session_id"]


async def test_a_customer_opens_a_session_that_staff_see(
        api: httpx.AsyncClient, tenant_a: ApiTenant, as_user: UserHeaders) -> None:
    customer = await as_user(tenant_a, "customer")
    created = await api.post(SESSIONS, json={"channel": "web", "locale": "ro"}, headers=customer)
    assert created.status_code == 201, created.text
    session = created.json()
    assert (session["status"], session["guest"], session["locale"]) == ("open", False, "ro")
    for user in ("customer", "staff", "admin"):
        seen = await api.get(f"{SESSIONS}/{session['id']}", headers=await as_user(tenant_a, user))
        assert seen.status_code == 200, seen.text
        assert seen.json() == session


async def test_a_guest_sees_only_its_own_session(
        api: httpx.AsyncClient, api_app: FastAPI, tenant_a: ApiTenant,
        as_user: UserHeaders) -> None:
    customer = await as_user(tenant_a, "customer")
    theirs = (await api.post(SESSIONS, json={}, headers=customer)).json()["id"]
    guest, own = await guest_headers(api_app, tenant_a)
    assert (await api.get(f"{SESSIONS}/{own}", headers=guest)).status_code == 200
    assert_problem(await api.get(f"{SESSIONS}/{theirs}", headers=guest), 404)
    listed = (await api.get(SESSIONS, headers=guest)).json()
    assert [item["id"] for item in listed["items"]] == [own]
    assert_problem(await api.post(SESSIONS, json={}, headers=guest), 403)
    # And a customer does not see a guest's session.
    assert_problem(await api.get(f"{SESSIONS}/{own}", headers=customer), 404)


async def test_lists_page_by_cursor_newest_first_without_repeats(
        api: httpx.AsyncClient, tenant_b: ApiTenant, as_user: UserHeaders) -> None:
    customer = await as_user(tenant_b, "customer")
    made = [(await api.post(SESSIONS, json={"channel": "sms"}, headers=customer)).json()["id"]
            for _ in range(5)]
    seen = [item["id"] for item in await every_page(api, SESSIONS, customer, channel="sms")]
    assert len(seen) == len(set(seen))
    assert seen[:5] == list(reversed(made))


async def test_list_filters_combine(
        api: httpx.AsyncClient, tenant_b: ApiTenant, as_user: UserHeaders) -> None:
    staff = await as_user(tenant_b, "staff")
    voice = (await api.post(SESSIONS, json={"channel": "voice"}, headers=staff)).json()
    await api.post(f"{SESSIONS}/{voice['id']}/close", headers=staff)
    closed_voice = (await api.get(SESSIONS, params={"channel": "voice", "status": "closed"},
                                  headers=staff)).json()["items"]
    assert voice["id"] in [item["id"] for item in closed_voice]
    assert {(item["channel"], item["status"]) for item in closed_voice} == {("voice", "closed")}
    later = (await api.get(SESSIONS, params={"channel": "voice",
                                             "created_from": "2999-01-01T00:00:00Z"},
                           headers=staff)).json()
    assert later["items"] == []


async def test_a_bad_cursor_or_filter_is_a_problem(
        api: httpx.AsyncClient, tenant_a: ApiTenant, as_user: UserHeaders) -> None:
    staff = await as_user(tenant_a, "staff")
    assert_problem(await api.get(SESSIONS, params={"cursor": "not-a-cursor"}, headers=staff), 400)
    assert_problem(await api.get(SESSIONS, params={"channel": "pigeon"}, headers=staff), 422)
    assert_problem(await api.get(SESSIONS, params={"limit": 1000}, headers=staff), 422)
    # An instant before year 1 once in UTC: refused, not a server error.
    assert_problem(await api.get(SESSIONS, params={"created_from": "0001-01-01T00:00:00+00:05"},
                                 headers=staff), 422)


async def test_a_message_is_stored_sealed_served_opened_and_queued_for_the_agent(
        api: httpx.AsyncClient, api_app: FastAPI, db: asyncpg.Pool, tenant_a: ApiTenant) -> None:
    guest, session_id = await guest_headers(api_app, tenant_a)
    text = "Aș vrea o programare pentru un detartraj joi dimineață"
    posted = await api.post(f"{SESSIONS}/{session_id}/messages", json={"text": text},
                            headers=guest)
    assert posted.status_code == 201, posted.text
    assert posted.json()["author"] == "customer"
    history = (await api.get(f"{SESSIONS}/{session_id}/messages", headers=guest)).json()
    assert [item["text"] for item in history["items"]] == [text]
    body, outbox = await stored_and_queued(
        db, tenant_a, "SELECT body FROM chat_messages WHERE session_id = $1", session_id)
    assert text.encode() not in body
    [queued] = [row for row in outbox
                if json.loads(row["event"])["type"] == "io.simptu.chat.message.received"]
    assert queued["topic"] == f"simptu.{tenant_a.slug}.inbound"
    event = json.loads(queued["event"])
    assert event["tenantid"] == tenant_a.slug
    assert event["data"]["message_id"] == posted.json()["id"]
    assert text.encode() not in queued["event"]


async def test_history_pages_in_conversation_order(
        api: httpx.AsyncClient, api_app: FastAPI, tenant_a: ApiTenant,
        as_user: UserHeaders) -> None:
    guest, session_id = await guest_headers(api_app, tenant_a)
    texts = [f"message {n}" for n in range(5)]
    for text in texts:
        await api.post(f"{SESSIONS}/{session_id}/messages", json={"text": text}, headers=guest)
    staff = await as_user(tenant_a, "staff")
    pages = await every_page(api, f"{SESSIONS}/{session_id}/messages", staff)
    seen = [item["text"] for item in pages]
    assert seen == texts


async def test_a_closed_session_takes_no_more_messages(
        api: httpx.AsyncClient, api_app: FastAPI, tenant_a: ApiTenant) -> None:
    guest, session_id = await guest_headers(api_app, tenant_a)
    closed = await api.post(f"{SESSIONS}/{session_id}/close", headers=guest)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    assert closed.json()["closed_at"] is not None
    refused = await api.post(f"{SESSIONS}/{session_id}/messages", json={"text": "hello?"},
                             headers=guest)
    assert_problem(refused, 409)
    assert_problem(await api.post(f"{SESSIONS}/{session_id}/close", headers=guest), 409)


async def test_hand_off_to_staff_keeps_the_note_sealed(
        api: httpx.AsyncClient, db: asyncpg.Pool, tenant_a: ApiTenant,
        as_user: UserHeaders) -> None:
    customer = await as_user(tenant_a, "customer")
    session_id = (await api.post(SESSIONS, json={}, headers=customer)).json()["id"]
    note = "Pacientul are dureri puternice, sunați-l la 0740 123 456"
    answer = await api.post(f"{SESSIONS}/{session_id}/handoff", json={"note": note},
                            headers=customer)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "handed_off"
    stored, events = await stored_and_queued(
        db, tenant_a, "SELECT handoff_note FROM chat_sessions WHERE id = $1", session_id)
    assert note.encode() not in stored
    assert [json.loads(row["event"])["type"] for row in events] == [
        "io.simptu.chat.session.opened", "io.simptu.chat.session.handed_off"]


async def test_the_session_says_who_handed_it_to_staff(
        api: httpx.AsyncClient, tenant_a: ApiTenant, as_user: UserHeaders) -> None:
    """What the staff inbox lists a hand-off by: waiting (the customer asked) or taken over by
    a named staff member; handing back keeps who had it, with the session open again."""
    customer = await as_user(tenant_a, "customer")
    staff = await as_user(tenant_a, "staff")
    session_id = (await api.post(SESSIONS, json={}, headers=customer)).json()["id"]
    fresh = (await api.get(f"{SESSIONS}/{session_id}", headers=staff)).json()
    assert (fresh["handed_off_by"], fresh["taken_over_by"]) == (None, None)
    asked = await api.post(f"{SESSIONS}/{session_id}/handoff", json={}, headers=customer)
    assert (asked.json()["handed_off_by"], asked.json()["taken_over_by"]) == ("customer", None)
    taken = await api.post(f"{SESSIONS}/{session_id}/handoff", json={}, headers=staff)
    me = (await api.get("/v1/me", headers=staff)).json()["subject"]
    assert (taken.json()["status"], taken.json()["handed_off_by"],
            taken.json()["taken_over_by"]) == ("handed_off", "staff", me)
    listed = await api.get(SESSIONS, params={"status": "handed_off"}, headers=staff)
    assert {item["id"]: item["taken_over_by"] for item in listed.json()["items"]}[
        session_id] == me
    back = await api.post(f"{SESSIONS}/{session_id}/handback", headers=staff)
    assert (back.json()["status"], back.json()["handed_off_by"]) == ("open", "staff")


async def test_another_tenants_token_reaches_no_session(
        api: httpx.AsyncClient, tenant_a: ApiTenant, tenant_b: ApiTenant,
        as_user: UserHeaders) -> None:
    session_id = (await api.post(SESSIONS, json={},
                                 headers=await as_user(tenant_a, "customer"))).json()["id"]
    admin_b = await as_user(tenant_b, "admin")
    # With tenant A named: the token is of B's realm.
    assert_problem(await api.get(f"{SESSIONS}/{session_id}",
                                 headers=admin_b | {"Host": tenant_a.host}), 403)
    # Within tenant B the id does not exist.
    assert_problem(await api.get(f"{SESSIONS}/{session_id}", headers=admin_b), 404)
    assert_problem(await api.post(f"{SESSIONS}/{session_id}/messages", json={"text": "x"},
                                  headers=admin_b), 404)


async def test_staff_list_conversations_on_every_channel_the_schema_admits(
        api: httpx.AsyncClient, db: asyncpg.Pool, tenant_a: ApiTenant,
        as_user: UserHeaders) -> None:
    """A channel added to the schema but not to the API's model made every list of that
    tenant's conversations fail (a hotel's Booking.com guest messages: 500 in the inbox)."""
    async with TenantUnitOfWork(db, tenant_a.names) as conn:
        check = await conn.fetchval(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conname = 'chat_sessions_channel_check' "
            "AND conrelid = 'chat_sessions'::regclass")
        admitted = set(re.findall(r"'(\w+)'::text", check))
        assert admitted == set(get_args(Channel)), check
        ids = {channel: uuid.uuid4() for channel in admitted}
        await conn.executemany("INSERT INTO chat_sessions (id, channel) VALUES ($1, $2)",
                               [(id_, channel) for channel, id_ in ids.items()])
    staff = await as_user(tenant_a, "staff")
    for channel, id_ in ids.items():
        listed = await api.get(SESSIONS, params={"channel": channel, "limit": "100"},
                               headers=staff)
        assert listed.status_code == 200, listed.text
        assert str(id_) in {item["id"] for item in listed.json()["items"]}, channel
