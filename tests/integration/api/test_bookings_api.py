"""Bookings through HTTP with real tokens on the real stack: one winner of a race for a slot,
idempotent retries, reschedule and cancel, who sees which booking, bad input that changes
nothing, availability that follows bookings, and the catalogue that only admins change."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest

from simptu.runtime.core.database import TenantUnitOfWork
from tests.integration.api.conftest import TIMEZONE, ApiTenant, BookableSlots, UserHeaders
from tests.integration.api.test_behaviour import assert_problem
from tests.integration.api.test_chat_sessions import every_page

BOOKINGS = "/v1/bookings"


def consultation(slots: BookableSlots, start: dt.datetime, **more: Any) -> dict[str, Any]:
    return {"service_id": str(slots.consultation), "resource_id": str(slots.dr_ana),
            "start": start.isoformat(), **more}


async def new_customers(db: asyncpg.Pool, tenant: ApiTenant, count: int) -> list[uuid.UUID]:
    """Customers known to the tenant but not the caller (staff book for them)."""
    ids = [uuid.uuid4() for _ in range(count)]
    async with TenantUnitOfWork(db, tenant.names) as conn:
        await conn.executemany("INSERT INTO customers (id) VALUES ($1)", [(i,) for i in ids])
    return ids


async def booked_at(db: asyncpg.Pool, tenant: ApiTenant, resource: uuid.UUID,
                    start: dt.datetime) -> int:
    async with TenantUnitOfWork(db, tenant.names) as conn:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM bookings WHERE resource_id = $1 AND start_at = $2 "
            "AND status = 'booked'", resource, start)
    return count


async def stored_changes(db: asyncpg.Pool, tenant: ApiTenant) -> tuple[int, int, int]:
    """Bookings, idempotency records and outbox rows of the tenant: what a refusal must leave."""
    async with TenantUnitOfWork(db, tenant.names) as conn:
        row = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM bookings) AS b, "
            "(SELECT count(*) FROM idempotency_records) AS i, (SELECT count(*) FROM outbox) AS o")
    return row["b"], row["i"], row["o"]


async def test_twenty_parallel_requests_for_one_slot_make_exactly_one_booking(
        api: httpx.AsyncClient, db: asyncpg.Pool, tenant_a: ApiTenant, bookable: BookableSlots,
        as_user: UserHeaders) -> None:
    staff = await as_user(tenant_a, "staff")
    start = bookable.take()
    customers = await new_customers(db, tenant_a, 20)
    answers = await asyncio.gather(*(
        api.post(BOOKINGS, json=consultation(bookable, start, customer_id=str(customer)),
                 headers=staff) for customer in customers))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] + [409] * 19, [a.text for a in answers if a.status_code != 409]
    for lost in (answer for answer in answers if answer.status_code == 409):
        assert assert_problem(lost, 409)["type"] == "https://simptu.io/problems/slot-taken"
    assert await booked_at(db, tenant_a, bookable.dr_ana, start) == 1


async def test_a_retry_with_the_same_idempotency_key_gets_the_first_booking_again(
        api: httpx.AsyncClient, db: asyncpg.Pool, tenant_a: ApiTenant, bookable: BookableSlots,
        as_user: UserHeaders) -> None:
    customer = await as_user(tenant_a, "customer") | {"Idempotency-Key": str(uuid.uuid4())}
    start = bookable.take()
    first = await api.post(BOOKINGS, json=consultation(bookable, start), headers=customer)
    again = await api.post(BOOKINGS, json=consultation(bookable, start), headers=customer)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.json() == first.json()
    assert await booked_at(db, tenant_a, bookable.dr_ana, start) == 1

    other_start = bookable.take()
    before = await stored_changes(db, tenant_a)
    reused = await api.post(BOOKINGS, json=consultation(bookable, other_start), headers=customer)
    problem = assert_problem(reused, 422)
    assert problem["type"] == "https://simptu.io/problems/idempotency-key-reused"
    assert await stored_changes(db, tenant_a) == before
    assert await booked_at(db, tenant_a, bookable.dr_ana, other_start) == 0


async def test_a_booking_is_rescheduled_then_cancelled_and_frees_its_slots(
        api: httpx.AsyncClient, db: asyncpg.Pool, tenant_a: ApiTenant, bookable: BookableSlots,
        as_user: UserHeaders) -> None:
    customer = await as_user(tenant_a, "customer")
    first, second = bookable.take(), bookable.take()
    booking = (await api.post(BOOKINGS, json=consultation(bookable, first),
                              headers=customer)).json()
    path = f"{BOOKINGS}/{booking['id']}"
    moved = await api.post(f"{path}/reschedule", json={"start": second.isoformat(),
                                                       "expected_version": 1}, headers=customer)
    assert moved.status_code == 200, moved.text
    assert moved.json()["version"] == 2
    assert dt.datetime.fromisoformat(moved.json()["start"]) == second
    assert (await booked_at(db, tenant_a, bookable.dr_ana, first),
            await booked_at(db, tenant_a, bookable.dr_ana, second)) == (0, 1)

    stale = await api.post(f"{path}/cancel", json={"expected_version": 1}, headers=customer)
    assert assert_problem(stale, 409)["type"] == "https://simptu.io/problems/stale-booking"
    cancelled = await api.post(f"{path}/cancel", json={"expected_version": 2}, headers=customer)
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["version"]) == ("cancelled", 3)
    assert await booked_at(db, tenant_a, bookable.dr_ana, second) == 0
    assert_problem(await api.post(f"{path}/cancel", json={}, headers=customer), 422)
    assert (await api.get(path, headers=customer)).json()["status"] == "cancelled"


async def test_a_customer_sees_and_changes_only_their_own_bookings(
        api: httpx.AsyncClient, db: asyncpg.Pool, tenant_a: ApiTenant, bookable: BookableSlots,
        as_user: UserHeaders) -> None:
    customer, staff = await as_user(tenant_a, "customer"), await as_user(tenant_a, "staff")
    [someone_else] = await new_customers(db, tenant_a, 1)
    theirs = (await api.post(BOOKINGS, json=consultation(
        bookable, bookable.take(), customer_id=str(someone_else)), headers=staff)).json()
    mine = (await api.post(BOOKINGS, json=consultation(bookable, bookable.take()),
                           headers=customer)).json()

    my_list = await every_page(api, BOOKINGS, customer)
    assert mine["id"] in {item["id"] for item in my_list}
    assert {item["customer_id"] for item in my_list} == {mine["customer_id"]}
    for answer in (await api.get(f"{BOOKINGS}/{theirs['id']}", headers=customer),
                   await api.post(f"{BOOKINGS}/{theirs['id']}/cancel", json={},
                                  headers=customer)):
        assert_problem(answer, 404)
    assert_problem(await api.get(BOOKINGS, params={"customer_id": str(someone_else)},
                                 headers=customer), 403)
    assert_problem(await api.post(BOOKINGS, json=consultation(
        bookable, bookable.take(), customer_id=str(someone_else)), headers=customer), 403)

    seen_by_staff = await every_page(api, BOOKINGS, staff, customer_id=str(someone_else))
    assert [item["id"] for item in seen_by_staff] == [theirs["id"]]
    assert theirs["id"] in {item["id"] for item in await every_page(api, BOOKINGS, staff)}
    assert (await api.get(f"{BOOKINGS}/{theirs['id']}", headers=staff)).status_code == 200


@pytest.mark.parametrize(("change", "status", "kind"), [
    ({"start": "+09:07"}, 422, "outside-schedule"),
    ({"start": "past"}, 422, "invalid-booking"),
    ({"service_id": str(uuid.UUID(int=7))}, 404, "not-found"),
    ({"resource_id": "cleaning"}, 422, "invalid-booking"),
    ({"nights": 3}, 422, "invalid-booking"),
    ({"start": "2030-01-07T09:00:00"}, 422, "invalid-request"),
    ({"unexpected": True}, 422, "invalid-request"),
])
async def test_a_refused_booking_changes_nothing(
        api: httpx.AsyncClient, db: asyncpg.Pool, tenant_a: ApiTenant, bookable: BookableSlots,
        as_user: UserHeaders, change: dict[str, Any], status: int, kind: str) -> None:
    customer = await as_user(tenant_a, "customer") | {"Idempotency-Key": str(uuid.uuid4())}
    start = bookable.starts[-1]
    body = consultation(bookable, start) | change
    if change.get("start") == "+09:07":
        body["start"] = start.replace(minute=7).isoformat()
    elif change.get("start") == "past":
        body["start"] = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
    if change.get("resource_id") == "cleaning":  # a service this resource does not offer
        body |= {"service_id": str(bookable.cleaning), "resource_id": str(bookable.dr_mihai)}
        await _offer_only_consultations(api, tenant_a, bookable, as_user)
    before = await stored_changes(db, tenant_a)
    problem = assert_problem(await api.post(BOOKINGS, json=body, headers=customer), status)
    assert problem["type"] == f"https://simptu.io/problems/{kind}"
    assert await stored_changes(db, tenant_a) == before


async def _offer_only_consultations(api: httpx.AsyncClient, tenant: ApiTenant,
                                    bookable: BookableSlots, as_user: UserHeaders) -> None:
    """Dr. Mihai Ionescu offers consultations only (the demo has him offer everything)."""
    resources = (await api.get("/v1/resources", headers=await as_user(tenant, "staff"))).json()
    [mihai] = [r for r in resources["items"] if r["id"] == str(bookable.dr_mihai)]
    spec = {"name": mihai["name"], "kind": "staff", "services": ["Consultation"],
            "hours": mihai["hours"]}
    answer = await api.put(f"/v1/resources/{mihai['id']}", json=spec,
                           headers=await as_user(tenant, "admin"))
    assert answer.status_code == 200, answer.text


async def test_availability_shrinks_after_a_booking_and_grows_after_its_cancellation(
        api: httpx.AsyncClient, tenant_a: ApiTenant, bookable: BookableSlots,
        as_user: UserHeaders) -> None:
    customer = await as_user(tenant_a, "customer")
    start = bookable.take()
    day = start.astimezone(ZoneInfo(TIMEZONE)).date().isoformat()
    query = {"service_id": str(bookable.consultation), "resource_id": str(bookable.dr_ana),
             "from": day, "to": day}

    async def free() -> set[dt.datetime]:
        answer = await api.get("/v1/availability", params=query, headers=customer)
        assert answer.status_code == 200, answer.text
        return {dt.datetime.fromisoformat(slot["start"]) for slot in answer.json()["items"]}

    assert start in await free()
    booking = (await api.post(BOOKINGS, json=consultation(bookable, start),
                              headers=customer)).json()
    # A 30-minute consultation also takes the start a quarter of an hour later.
    assert not {start, start + dt.timedelta(minutes=15)} & await free()
    await api.post(f"{BOOKINGS}/{booking['id']}/cancel", json={}, headers=customer)
    assert start in await free()
    assert_problem(await api.get("/v1/availability", params=query | {"to": "2000-01-01"},
                                 headers=customer), 422)


async def test_any_caller_reads_the_catalogue_and_only_admins_change_it(
        api: httpx.AsyncClient, tenant_a: ApiTenant, as_user: UserHeaders) -> None:
    admin, staff = await as_user(tenant_a, "admin"), await as_user(tenant_a, "staff")
    customer = await as_user(tenant_a, "customer")
    names = {s["name"] for s in (await api.get("/v1/services", headers=customer)).json()["items"]}
    assert {"Consultation", "Cleaning", "Filling"} <= names
    spec = {"name": f"Whitening {uuid.uuid4().hex[:6]}", "duration_minutes": 90,
            "price": "700.00", "currency": "RON"}
    for refused in (staff, customer):
        assert_problem(await api.post("/v1/services", json=spec, headers=refused), 403)
    created = await api.post("/v1/services", json=spec, headers=admin)
    assert created.status_code == 201, created.text
    service = created.json()
    changed = await api.put(f"/v1/services/{service['id']}",
                            json=spec | {"duration_minutes": 60}, headers=admin)
    assert changed.json()["duration_minutes"] == 60
    assert_problem(await api.put(f"/v1/services/{service['id']}",
                                 json=spec | {"name": "Cleaning"}, headers=admin), 422)
    assert (await api.delete(f"/v1/services/{service['id']}", headers=admin)).status_code == 204
    after = (await api.get("/v1/services", headers=customer)).json()["items"]
    assert service["id"] not in {s["id"] for s in after}
    assert_problem(await api.delete(f"/v1/services/{service['id']}", headers=admin), 404)


async def test_an_admin_closes_a_day_and_retires_a_resource(
        api: httpx.AsyncClient, tenant_a: ApiTenant, bookable: BookableSlots,
        as_user: UserHeaders) -> None:
    admin = await as_user(tenant_a, "admin")
    # A Monday past the days the other tests book in, when Dr. Ana Popescu works.
    far = dt.date.today() + dt.timedelta(days=70)
    monday = (far + dt.timedelta(days=-far.weekday() % 7)).isoformat()
    query = {"service_id": str(bookable.consultation), "resource_id": str(bookable.dr_ana),
             "from": monday, "to": monday}
    assert (await api.get("/v1/availability", params=query, headers=admin)).json()["items"]
    closed = await api.post("/v1/closed-days", json={"day": monday, "resource_id": str(
        bookable.dr_ana), "reason": "training"}, headers=admin)
    assert closed.status_code == 204, closed.text
    assert (await api.get("/v1/availability", params=query, headers=admin)).json()["items"] == []

    spec = {"name": f"Room {uuid.uuid4().hex[:6]}", "kind": "room", "services": ["Cleaning"],
            "hours": [{"weekday": 1, "opens": "09:00", "closes": "12:00"}]}
    room = (await api.post("/v1/resources", json=spec, headers=admin)).json()
    assert (room["service_ids"], len(room["hours"])) == ([str(bookable.cleaning)], 1)
    assert (await api.delete(f"/v1/resources/{room['id']}", headers=admin)).status_code == 204
    listed = (await api.get("/v1/resources", headers=admin)).json()["items"]
    assert room["id"] not in {resource["id"] for resource in listed}
    assert_problem(await api.put(f"/v1/resources/{room['id']}", json=spec, headers=admin), 404)
