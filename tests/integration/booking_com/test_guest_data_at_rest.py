"""A Booking.com guest leaves nothing readable where the platform keeps data: the guest's name
from the OTA feed and the words of their message from the messaging API are in no Postgres
heap file of the demo hotel, not in the WAL (as logical decoding shows it), not in the hotel's
Kafka topics' log files and not in Redis's append-only file, while each probe sees what it
should (our rows, our events, a control value written in clear). Against the running stack:
its Booking.com stand-in, its channel senders' poller and the demo hotel."""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import httpx
import redis.asyncio as aioredis

from simptu.devstack.demo_channels import demo_booking_com_property
from simptu.devstack.envfile import StackEnv
from simptu.devstack.stack import Stack
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.tenancy import TenantNames
from tests.integration.channels.conftest import until
from tests.integration.email.test_email_at_rest import files_under, readable, tenant_heap

HOTEL = "hotel-carpati-brasov"


def acknowledged(http: httpx.AsyncClient, reservation_id: str,
                 count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        answer = await http.get("/_standin/acks", params={"reservation_id": reservation_id})
        return len(answer.json()["acks"]) >= count
    return check


def posted(db: asyncpg.Pool, client_msg_id: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        async with TenantUnitOfWork(db, TenantNames(HOTEL)) as conn:
            return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM chat_messages "
                                            "WHERE client_msg_id = $1)", client_msg_id))
    return check


@contextlib.asynccontextmanager
async def decoded_wal(conn: asyncpg.Connection, slot: str,
                      control: str) -> AsyncIterator[bytearray]:
    """The WAL's row changes while the block runs, as logical decoding prints them, ending
    with `control` written to the WAL in clear."""
    await conn.execute("SELECT pg_create_logical_replication_slot($1, 'test_decoding')", slot)
    decoded = bytearray()
    try:
        yield decoded
        await conn.execute("SELECT pg_logical_emit_message(true, 'probe', $1::text)", control)
        for change in await conn.fetch("SELECT data FROM pg_logical_slot_get_changes("
                                       "$1, NULL, NULL)", slot):
            decoded += change["data"].encode() + b"\n"
    finally:
        await conn.execute("SELECT pg_drop_replication_slot($1)", slot)


async def test_a_guests_name_and_message_are_readable_nowhere_at_rest(
        stack: StackEnv, db: asyncpg.Pool, redis_client: aioredis.Redis,
        local_stack: Stack, unique: str) -> None:
    marker = uuid.uuid4().hex[:12]
    given, surname = f"Zenobia{marker}", f"Quarrington{marker}"
    words = f"Ajungem târziu, codul porții este Poarta-{marker}."
    control = f"control-{marker}"  # written in clear, so each probe proves it sees a leak
    hotel = demo_booking_com_property(HOTEL)
    reservation_id = str(random.randrange(10**9, 10**10))  # noqa: S311 - not a secret
    check_in = dt.date.today() + dt.timedelta(days=random.randrange(400, 4000))  # noqa: S311
    slot = f"{unique}_guest_probe"
    async with httpx.AsyncClient(base_url=stack.values["SIMPTU_BOOKING_COM_OTA_URL"],
                                 timeout=10) as http, db.acquire() as conn:
        stay = {"property_id": hotel.property_id, "reservation_id": reservation_id}
        try:
            async with decoded_wal(conn, slot, control) as wal:
                (await http.post("/_standin/reservations", json={
                    **stay, "given_name": given, "surname": surname, "check_in": str(check_in),
                    "check_out": str(check_in + dt.timedelta(days=2)),
                    "room_name": "Double room"})).raise_for_status()
                message_id = f"msg-{marker}"
                (await http.post("/_standin/messages", json={
                    "property_id": hotel.property_id, "conversation_id": f"conv-{marker}",
                    "reservation_id": reservation_id, "message_id": message_id,
                    "content": words})).raise_for_status()
                await until(acknowledged(http, reservation_id, 1))
                await until(posted(db, f"booking_com:{message_id}"))
        finally:  # the room is free again
            (await http.post("/_standin/reservations", json={**stay, "status": "Cancel"})
             ).raise_for_status()
        heap = await tenant_heap(conn, TenantNames(HOTEL).schema)
        await until(acknowledged(http, reservation_id, 2))
    async with TenantUnitOfWork(db, TenantNames(HOTEL)) as tenant:
        booking_id = await tenant.fetchval(
            "SELECT booking_id FROM reservations WHERE source = 'booking.com' "
            "AND reservation_id = $1", reservation_id)
    assert f"{TenantNames(HOTEL).schema}.customers: INSERT".encode() in wal  # decoded
    assert f"{TenantNames(HOTEL).schema}.reservations: INSERT".encode() in wal
    assert control.encode() in wal
    assert booking_id.bytes in heap  # the files that hold our rows
    kafka = files_under(local_stack.ctx.folder("kafka") / "data", f"simptu.{HOTEL}.*")
    assert str(booking_id).encode() in kafka  # the booking's events are in these files
    await redis_client.set(f"simptu-test:{unique}", control, ex=60)
    redis_files = files_under(local_stack.ctx.folder("redis") / "data")
    assert control.encode() in redis_files
    secrets = readable(given) + readable(surname) + readable(words)
    for place, found in (("postgres heap", heap), ("WAL", wal), ("Kafka", kafka),
                         ("Redis", redis_files)):
        assert [value for value in secrets if value in found] == [], \
            f"the guest is readable in {place}"
