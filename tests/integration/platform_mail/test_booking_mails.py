"""Booking mails on the stack, to a customer with an address (made by an accepted invitation),
in the customer's language: a booking made is confirmed, a cancelled one is told cancelled, a
completed one is followed by a rating request whose link opens a page that records the
rating once; each arrives once. An access code asked for by
e-mail arrives in the customer's language and opens their bookings."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import re
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import redis.asyncio as aioredis

from simptu.runtime.agent.actions import become_customer
from simptu.runtime.core.bookings import complete_past_bookings
from simptu.runtime.core.channels.contacts import Contact, contact_index, open_conversation
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.mail.rating_links import proof_holds
from simptu.runtime.core.registry import TenantRegistry
from tests.integration.platform_mail.conftest import Platform, new_address

# Booked far ahead on a random working day: earlier runs on a long-lived stack filled others.
FIRST_DAY, LAST_DAY = 20, 60


async def book(platform: Platform, customer: dict[str, str],
               for_customer: uuid.UUID | None = None) -> dict[str, Any]:
    """A Consultation at a free time, booked by the customer themself (or by staff, for
    `for_customer`)."""
    services = (await platform.api.get("/v1/services", headers=customer)).json()["items"]
    [consultation] = [s for s in services if s["name"] == "Consultation"]
    for _ in range(10):
        day = dt.date.today() + dt.timedelta(days=random.randint(FIRST_DAY, LAST_DAY))  # noqa: S311
        slots = (await platform.api.get("/v1/availability", headers=customer, params={
            "service_id": consultation["id"], "from": str(day), "to": str(day)})).json()["items"]
        if not slots:
            continue
        slot = random.choice(slots)  # noqa: S311 - not a secret
        made = await platform.api.post("/v1/bookings", headers=customer, json={
            "service_id": consultation["id"], "resource_id": slot["resource_id"],
            "start": slot["start"]} | ({"customer_id": str(for_customer)} if for_customer
                                        else {}))
        if made.status_code == 201:
            booking: dict[str, Any] = made.json()
            return booking
        assert made.status_code == 409, made.text  # taken meanwhile: another time
    raise AssertionError("no free Consultation found")


def subjects(platform: Platform, address: str) -> list[str]:
    return [str(mail["Subject"]) for mail in platform.mailbox(address)]


async def test_a_booking_is_confirmed_and_its_cancellation_told_once_each_in_romanian(
        platform: Platform) -> None:
    email, customer = await platform.customer("ro")
    booking = await book(platform, customer)
    confirmed = await platform.mail(email, "Rezervare confirmată")
    text = confirmed.get_body(("plain",))
    assert text is not None
    assert "Consultație" in text.get_content()  # the service's Romanian name
    assert booking["id"][:8].upper() in text.get_content()
    assert confirmed["Content-Language"] == "ro"

    cancelled = await platform.api.post(f"/v1/bookings/{booking['id']}/cancel", json={},
                                        headers=customer)
    assert cancelled.status_code == 200, cancelled.text
    await platform.mail(email, "Rezervare anulată")
    got = await asyncio.to_thread(subjects, platform, email)
    # (The invitation's own mail goes only if the mailer saw it before it was accepted.)
    assert [s.split(":")[0] for s in got if s.startswith("Rezervare")] == [
        "Rezervare confirmată", "Rezervare anulată"]


async def test_a_completed_booking_is_followed_by_one_rating_request_in_english(
        platform: Platform) -> None:
    email, customer = await platform.customer("en")
    booking = await book(platform, customer)
    await platform.mail(email, "Booking confirmed")
    # The visit took place: moved to a free half hour in the past, then housekeeping's
    # round completes it (what the API's housekeeper does every few minutes).
    start = dt.datetime(2001, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
        minutes=30 * random.randrange(200_000))  # noqa: S311
    async with platform.db.acquire() as conn:
        async with conn.transaction():
            await conn.execute(
                f"UPDATE {platform.tenant.schema}.bookings SET start_at = $2, end_at = $3, "
                "busy_until = $3 WHERE id = $1", uuid.UUID(booking["id"]), start,
                start + dt.timedelta(minutes=30))
        await complete_past_bookings(conn, platform.tenant, limit=500)
    asked = await platform.mail(email, "How was your visit")
    text = asked.get_body(("plain",))
    assert text is not None
    [link] = re.findall(r"http\S+/ratings/\S+", text.get_content())
    got = await asyncio.to_thread(subjects, platform, email)
    assert sum("How was your visit" in s for s in got) == 1
    assert sum("Booking confirmed" in s for s in got) == 1

    # The link opens the rating page: no sign-in, the link is the customer's right to rate.
    parts = urlsplit(link)
    page = await platform.api.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200, page.text
    assert "Rate your visit" in page.text
    query = parse_qs(parts.query)
    form = {"booking": query["booking"][0], "proof": query["proof"][0]}
    altered = await platform.api.post(parts.path, data={
        **form, "proof": form["proof"][:-2] + "AA", "score": "1"})
    assert altered.status_code == 404
    assert 'data-reason="unknown-link"' in altered.text  # (in the tenant's language)
    rated = await platform.api.post(parts.path, data={**form, "score": "4",
                                                      "comment": "Very kind staff"})
    assert rated.status_code == 201, rated.text
    assert "your rating was recorded" in rated.text
    again = await platform.api.get(f"{parts.path}?{parts.query}")
    assert again.status_code == 409
    assert "rated already" in again.text
    async with TenantUnitOfWork(platform.db, platform.tenant) as conn:
        rating = await conn.fetchrow("SELECT score, comment FROM ratings WHERE booking_id = $1",
                                     uuid.UUID(booking["id"]))
        cipher = platform.key_ring.cipher(platform.tenant, conn)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
        expired = await proof_holds(cipher, uuid.UUID(booking["id"]), form["proof"], later)
        elsewhere = await proof_holds(cipher, uuid.uuid4(), form["proof"], later)
    assert rating["score"] == 4
    assert b"Very kind staff" not in rating["comment"]  # sealed
    assert (expired, elsewhere) == (False, None)


async def test_an_access_code_asked_for_by_mail_arrives_and_opens_the_customers_bookings(
        platform: Platform) -> None:
    email, _ = await platform.customer("en")
    tenant = {"X-Simptu-Tenant": platform.tenant.slug}
    asked = await platform.api.post("/v1/access-codes/request", json={"email": email},
                                    headers=tenant)
    assert asked.status_code == 202, asked.text
    stranger = await platform.api.post("/v1/access-codes/request",
                                       json={"email": new_address("stranger")}, headers=tenant)
    assert stranger.json() == asked.json()  # no one learns who is a customer
    mail = await platform.mail(email, "Your access code for")
    text = mail.get_body(("plain",))
    assert text is not None
    [code] = re.findall(r"\b\d{8}\b", text.get_content())
    redeemed = await platform.api.post("/v1/access-codes/redeem", headers=tenant,
                                       json={"email": email, "code": code})
    assert redeemed.status_code == 200, redeemed.text
    bookings = await platform.api.get("/v1/bookings", headers={
        **tenant, "Authorization": f"Bearer {redeemed.json()['token']}"})
    assert bookings.status_code == 200, bookings.text


async def test_a_customer_who_wrote_by_mail_is_mailed_their_bookings_confirmation(
        platform: Platform, redis_client: aioredis.Redis) -> None:
    email = new_address("writer")
    tenant = await TenantRegistry(platform.db, redis_client).get(platform.tenant.slug)
    async with TenantUnitOfWork(platform.db, platform.tenant) as conn:
        cipher = platform.key_ring.cipher(platform.tenant, conn)
        contact = Contact("email", email, "ro")
        opened = await open_conversation(conn, cipher, tenant, contact,
                                         await contact_index(cipher, contact),
                                         dt.datetime.now(dt.UTC))
        session = await conn.fetchrow("SELECT * FROM chat_sessions WHERE id = $1",
                                      opened.session_id)
        # What the agent does when the guest who wrote by mail books.
        customer_id = await become_customer(conn, cipher, session, uuid.uuid4(),
                                            "Maria Ionescu", "ro")
    await book(platform, await platform.headers("staff"), customer_id)
    confirmed = await platform.mail(email, "Rezervare confirmată")
    text = confirmed.get_body(("plain",))
    assert text is not None
    assert "Bună ziua, Maria Ionescu" in text.get_content()
