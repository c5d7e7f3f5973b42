"""Customer access codes over HTTP with real staff tokens: a customer without an account redeems
a one-time code for a token that reads only their bookings and conversations; used, expired and
guessed-at codes are refused, and the limiter stops brute force from one address."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from simptu.runtime.api.platform import ApiPlatform
from simptu.runtime.core.database import TenantUnitOfWork
from tests.integration.api.conftest import ApiTenant, BookableSlots, UserHeaders, client_of


@dataclass(frozen=True)
class WalkIn:
    """A customer the clinic knows by e-mail, with one booking and one conversation."""

    id: uuid.UUID
    email: str
    booking_id: str
    session_id: str


async def add_customer(app: FastAPI, db: asyncpg.Pool, tenant: ApiTenant) -> tuple[uuid.UUID,
                                                                                     str]:
    platform: ApiPlatform = app.state.platform
    customer_id, email = uuid.uuid4(), f"walk-in-{uuid.uuid4().hex[:8]}@example.com"
    async with TenantUnitOfWork(db, tenant.names) as conn:
        cipher = platform.keyring.cipher(tenant.names, conn)
        await conn.execute(
            "INSERT INTO customers (id, email, email_index) VALUES ($1, $2, $3)", customer_id,
            await cipher.seal("customers", "email", customer_id, email),
            await cipher.blind_index("email", email))
    return customer_id, email


@pytest.fixture
async def walk_in(api: httpx.AsyncClient, api_app: FastAPI, db: asyncpg.Pool,
                  tenant_a: ApiTenant, as_user: UserHeaders, bookable: BookableSlots) -> WalkIn:
    customer_id, email = await add_customer(api_app, db, tenant_a)
    staff = await as_user(tenant_a, "staff")
    booked = await api.post("/v1/bookings", headers=staff, json={
        "service_id": str(bookable.consultation), "resource_id": str(bookable.dr_ana),
        "start": bookable.take().isoformat(), "customer_id": str(customer_id)})
    assert booked.status_code == 201, booked.text
    session = await api.post("/v1/chat/sessions", json={"customer_id": str(customer_id)},
                             headers=staff)
    assert session.status_code == 201, session.text
    said = await api.post(f"/v1/chat/sessions/{session.json()['id']}/messages",
                          json={"text": "your x-ray is ready"}, headers=staff)
    assert said.status_code == 201, said.text
    return WalkIn(customer_id, email, booked.json()["id"], session.json()["id"])


async def issue_code(api: httpx.AsyncClient, staff: dict[str, str],
                     customer_id: uuid.UUID) -> dict[str, Any]:
    issued = await api.post(f"/v1/customers/{customer_id}/access-codes", headers=staff)
    assert issued.status_code == 201, issued.text
    body: dict[str, Any] = issued.json()
    return body


def redeeming(tenant: ApiTenant, code: str, **customer: str) -> dict[str, Any]:
    return {"url": "/v1/access-codes/redeem", "headers": {"Host": tenant.host},
            "json": {"code": code, **customer}}


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** 8:08d}"


async def test_a_redeemed_code_reads_only_the_customers_bookings_and_conversations(
        api: httpx.AsyncClient, walk_in: WalkIn, tenant_a: ApiTenant,
        as_user: UserHeaders) -> None:
    code = (await issue_code(api, await as_user(tenant_a, "staff"), walk_in.id))["code"]
    redeemed = await api.post(**redeeming(tenant_a, code, email=walk_in.email.upper()))
    assert redeemed.status_code == 200, redeemed.text
    assert redeemed.json()["customer_id"] == str(walk_in.id)
    bearer = {"Authorization": f"Bearer {redeemed.json()['token']}"}  # tenant from the token

    bookings = (await api.get("/v1/bookings", headers=bearer)).json()["items"]
    assert [booking["id"] for booking in bookings] == [walk_in.booking_id]
    sessions = (await api.get("/v1/chat/sessions", headers=bearer)).json()["items"]
    assert [session["id"] for session in sessions] == [walk_in.session_id]
    history = await api.get(f"/v1/chat/sessions/{walk_in.session_id}/messages", headers=bearer)
    assert [message["text"] for message in history.json()["items"]] == ["your x-ray is ready"]

    # Someone else's booking is not there; and the token only reads.
    customer = await as_user(tenant_a, "customer")
    own = (await api.get("/v1/bookings", headers=customer)).json()["items"]
    for booking in own:
        assert (await api.get(f"/v1/bookings/{booking['id']}", headers=bearer)).status_code == 404
    cancel = await api.post(f"/v1/bookings/{walk_in.booking_id}/cancel", json={}, headers=bearer)
    assert cancel.status_code == 403
    assert cancel.json()["type"].endswith("/read-only-token")


async def test_used_and_expired_codes_are_refused(
        api: httpx.AsyncClient, walk_in: WalkIn, tenant_a: ApiTenant, as_user: UserHeaders,
        db: asyncpg.Pool) -> None:
    staff = await as_user(tenant_a, "staff")
    used = (await issue_code(api, staff, walk_in.id))["code"]
    assert (await api.post(**redeeming(tenant_a, used, customer_id=str(walk_in.id)))
            ).status_code == 200
    again = await api.post(**redeeming(tenant_a, used, customer_id=str(walk_in.id)))
    assert again.status_code == 409, again.text
    assert again.json()["type"].endswith("/code-used")

    late = await issue_code(api, staff, walk_in.id)
    async with TenantUnitOfWork(db, tenant_a.names) as conn:
        await conn.execute("UPDATE access_codes SET expires_at = now() - interval '1 second' "
                           "WHERE id = $1", uuid.UUID(late["id"]))
    expired = await api.post(**redeeming(tenant_a, late["code"], customer_id=str(walk_in.id)))
    assert expired.status_code == 410, expired.text
    assert expired.json()["type"].endswith("/code-expired")


async def test_wrong_guesses_kill_the_code_whichever_addresses_they_come_from(
        api_app: FastAPI, api: httpx.AsyncClient, walk_in: WalkIn, tenant_a: ApiTenant,
        as_user: UserHeaders) -> None:
    issued = await issue_code(api, await as_user(tenant_a, "staff"), walk_in.id)
    for attempt in range(issued["max_attempts"]):
        async with client_of(api_app, f"198.51.100.{attempt + 1}") as guesser:
            wrong = await guesser.post(**redeeming(tenant_a, other_code(issued["code"]),
                                                   customer_id=str(walk_in.id)))
        assert wrong.status_code == 404, wrong.text
    right = await api.post(**redeeming(tenant_a, issued["code"], customer_id=str(walk_in.id)))
    assert right.status_code == 410, right.text
    assert right.json()["type"].endswith("/code-locked")


async def test_brute_force_from_one_address_is_stopped_by_the_limiter(
        api_app: FastAPI, api: httpx.AsyncClient, db: asyncpg.Pool, walk_in: WalkIn,
        tenant_a: ApiTenant, as_user: UserHeaders) -> None:
    staff = await as_user(tenant_a, "staff")
    target = await issue_code(api, staff, walk_in.id)
    limit = api_app.state.platform.settings.api_access_code_rate_limit
    async with client_of(api_app, f"203.0.113.{uuid.uuid4().int % 250 + 1}") as attacker:
        answers = [(await attacker.post(**redeeming(
            tenant_a, f"{guess:08d}", customer_id=str(uuid.uuid4())))).status_code
            for guess in range(limit)]
        assert answers == [404] * limit
        # Past the limit even the right code is not looked at from this address.
        stopped = await attacker.post(**redeeming(tenant_a, target["code"],
                                                  customer_id=str(walk_in.id)))
    assert stopped.status_code == 429, stopped.text
    assert int(stopped.headers["Retry-After"]) >= 1
    async with TenantUnitOfWork(db, tenant_a.names) as conn:
        assert await conn.fetchval("SELECT redeemed_at FROM access_codes WHERE id = $1",
                                   uuid.UUID(target["id"])) is None
    # The code itself was fine: from another address it works.
    elsewhere = await api.post(**redeeming(tenant_a, target["code"], customer_id=str(walk_in.id)))
    assert elsewhere.status_code == 200, elsewhere.text


async def test_only_staff_issue_codes_and_only_for_their_tenants_customers(
        api: httpx.AsyncClient, walk_in: WalkIn, tenant_a: ApiTenant, tenant_b: ApiTenant,
        as_user: UserHeaders) -> None:
    path = f"/v1/customers/{walk_in.id}/access-codes"
    assert (await api.post(path, headers=await as_user(tenant_a, "customer"))).status_code == 403
    assert (await api.post(path, headers=await as_user(tenant_b, "staff"))).status_code == 404
    code = (await issue_code(api, await as_user(tenant_a, "staff"), walk_in.id))["code"]
    at_b = await api.post(**redeeming(tenant_b, code, customer_id=str(walk_in.id)))
    assert at_b.status_code == 404
    token = (await api.post(**redeeming(tenant_a, code, customer_id=str(walk_in.id)))
             ).json()["token"]
    on_b = await api.get("/v1/bookings", headers={"Host": tenant_b.host,
                                                  "Authorization": f"Bearer {token}"})
    assert on_b.status_code == 403
