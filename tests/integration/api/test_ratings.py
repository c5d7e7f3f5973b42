"""Ratings over HTTP with real tokens: a customer rates a completed booking or a closed
conversation once, the comment is stored sealed, and staff read averages per service and per
staff member."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx

from simptu.runtime.core.database import TenantUnitOfWork
from tests.integration.api.conftest import ApiTenant, BookableSlots, UserHeaders


async def booking_of_customer(api: httpx.AsyncClient, customer: dict[str, str],
                              bookable: BookableSlots) -> dict[str, Any]:
    booked = await api.post("/v1/bookings", headers=customer, json={
        "service_id": str(bookable.consultation), "resource_id": str(bookable.dr_ana),
        "start": bookable.take().isoformat()})
    assert booked.status_code == 201, booked.text
    body: dict[str, Any] = booked.json()
    return body


async def complete(db: asyncpg.Pool, tenant: ApiTenant, booking_id: str) -> None:
    async with TenantUnitOfWork(db, tenant.names) as conn:
        await conn.execute("UPDATE bookings SET status = 'completed' WHERE id = $1",
                           uuid.UUID(booking_id))


async def test_a_completed_booking_is_rated_once_and_counts_for_its_service_and_staff(
        api: httpx.AsyncClient, as_user: UserHeaders, tenant_a: ApiTenant, db: asyncpg.Pool,
        bookable: BookableSlots) -> None:
    customer = await as_user(tenant_a, "customer")
    booking = await booking_of_customer(api, customer, bookable)
    rating = {"booking_id": booking["id"], "score": 5, "comment": "gentle and on time"}
    early = await api.post("/v1/ratings", json=rating, headers=customer)
    assert early.status_code == 409
    assert early.json()["type"].endswith("/not-completed")

    await complete(db, tenant_a, booking["id"])
    rated = await api.post("/v1/ratings", json=rating, headers=customer)
    assert rated.status_code == 201, rated.text
    assert rated.json()["service_id"] == str(bookable.consultation)
    again = await api.post("/v1/ratings", json=rating | {"score": 1}, headers=customer)
    assert again.status_code == 409
    assert again.json()["type"].endswith("/already-rated")

    async with TenantUnitOfWork(db, tenant_a.names) as conn:
        stored = await conn.fetchrow("SELECT score, comment FROM ratings WHERE booking_id = $1",
                                     uuid.UUID(booking["id"]))
    assert stored["score"] == 5
    assert b"gentle" not in stored["comment"]

    summary = await api.get("/v1/ratings/summary", headers=await as_user(tenant_a, "staff"))
    assert summary.status_code == 200, summary.text
    services = {item["service_id"]: item for item in summary.json()["services"]}
    staff = {item["resource_id"]: item for item in summary.json()["staff"]}
    assert services[str(bookable.consultation)]["count"] >= 1
    assert staff[str(bookable.dr_ana)]["name"] == "Dr. Ana Popescu"
    async with TenantUnitOfWork(db, tenant_a.names) as conn:
        expected = await conn.fetchval(
            "SELECT round(avg(score), 2) FROM ratings WHERE resource_id = $1", bookable.dr_ana)
    assert staff[str(bookable.dr_ana)]["average"] == float(expected)


async def test_a_closed_conversation_is_rated_once(
        api: httpx.AsyncClient, as_user: UserHeaders, tenant_a: ApiTenant) -> None:
    customer = await as_user(tenant_a, "customer")
    session = (await api.post("/v1/chat/sessions", json={}, headers=customer)).json()["id"]
    rating = {"session_id": session, "score": 4}
    open_one = await api.post("/v1/ratings", json=rating, headers=customer)
    assert open_one.status_code == 409
    assert open_one.json()["type"].endswith("/not-closed")
    assert (await api.post(f"/v1/chat/sessions/{session}/close", headers=customer)
            ).status_code == 200
    assert (await api.post("/v1/ratings", json=rating, headers=customer)).status_code == 201
    assert (await api.post("/v1/ratings", json=rating, headers=customer)).status_code == 409
    summary = (await api.get("/v1/ratings/summary", headers=await as_user(tenant_a, "admin")))
    assert summary.json()["conversations"]["count"] >= 1


async def test_only_the_customer_rates_and_only_staff_read_the_summary(
        api: httpx.AsyncClient, as_user: UserHeaders, tenant_a: ApiTenant, tenant_b: ApiTenant,
        db: asyncpg.Pool, bookable: BookableSlots) -> None:
    customer = await as_user(tenant_a, "customer")
    booking = await booking_of_customer(api, customer, bookable)
    await complete(db, tenant_a, booking["id"])
    rating = {"booking_id": booking["id"], "score": 3}
    staff = await as_user(tenant_a, "staff")
    assert (await api.post("/v1/ratings", json=rating, headers=staff)).status_code == 403
    assert (await api.get("/v1/ratings/summary", headers=customer)).status_code == 403
    other_tenant = await api.post("/v1/ratings", json=rating,
                                  headers=await as_user(tenant_b, "customer"))
    assert other_tenant.status_code == 404
    neither = await api.post("/v1/ratings", json={"score": 3}, headers=customer)
    assert neither.status_code == 422
    assert (await api.post("/v1/ratings", json=rating | {"score": 6},
                           headers=customer)).status_code == 422
    # Nothing above rated it: the customer still can.
    assert (await api.post("/v1/ratings", json=rating, headers=customer)).status_code == 201
