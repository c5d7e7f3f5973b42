"""Booking engine benchmark: availability queries per second (one service, a week, every
dentist of the demo clinic) on an empty and on a half-booked calendar, and book() throughput,
one at a time and from parallel clients. Runs against the local stack (`make up`) with a
throwaway tenant, removed afterwards. Prints a markdown table.

    .venv/bin/python bench/bench_bookings.py [--seconds 3] [--clients 8]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import time
import uuid
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

import asyncpg
from bench_outbox import throwaway_tenant  # the same provisioning as the operator's

from simptu.devstack.envfile import StackEnv
from simptu.devstack.settings import DevstackSettings
from simptu.runtime.core.bookings import (
    BookingRequest,
    Slot,
    SlotTaken,
    availability,
    book,
    list_services,
)
from simptu.runtime.core.bookings.demo import seed_demo_catalogue
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.tenancy import TenantNames

TZ = ZoneInfo("Europe/Bucharest")


async def rate(seconds: float, clients: int, call: Callable[[], Awaitable[object]]) -> float:
    """Calls per second of `call`, from `clients` concurrent loops for `seconds`."""
    done = 0
    deadline = time.monotonic() + seconds

    async def loop() -> None:
        nonlocal done
        while time.monotonic() < deadline:
            await call()
            done += 1

    started = time.monotonic()
    await asyncio.gather(*(loop() for _ in range(clients)))
    return done / (time.monotonic() - started)


class Calendar:
    """The demo clinic's consultations over one future week."""

    def __init__(self, pool: asyncpg.Pool, tenant: TenantNames, service: uuid.UUID) -> None:
        self.pool, self.tenant, self.service = pool, tenant, service
        today = dt.datetime.now(TZ).date()
        self.first = today + dt.timedelta(days=7 - today.weekday() + 7)
        self.last = self.first + dt.timedelta(days=6)

    async def free(self) -> list[Slot]:
        async with TenantUnitOfWork(self.pool, self.tenant) as conn:
            return await availability(conn, self.service, None, self.first, self.last, TZ)

    async def book(self, slot: Slot) -> bool:
        async with TenantUnitOfWork(self.pool, self.tenant) as conn:
            customer = uuid.uuid4()
            await conn.execute("INSERT INTO customers (id) VALUES ($1)", customer)
            try:
                await book(conn, self.tenant, BookingRequest(
                    service_id=self.service, resource_id=slot.resource_id,
                    customer_id=customer, start=slot.start), TZ)
            except SlotTaken:
                return False
        return True


def apart(slots: list[Slot]) -> list[Slot]:
    """The earliest slots of each resource that do not overlap one another."""
    chosen: list[Slot] = []
    ends: dict[uuid.UUID, dt.datetime] = {}
    for slot in slots:
        if slot.start >= ends.get(slot.resource_id, slot.start):
            chosen.append(slot)
            ends[slot.resource_id] = slot.end
    return chosen


async def book_all(calendar: Calendar, slots: list[Slot], clients: int) -> tuple[float, int]:
    """Book `slots` from `clients` parallel loops; (bookings per second, how many succeeded)."""
    queue = list(slots)
    made = 0

    async def loop() -> None:
        nonlocal made
        while queue:
            booked = await calendar.book(queue.pop())
            made += booked

    started = time.monotonic()
    await asyncio.gather(*(loop() for _ in range(clients)))
    return len(slots) / (time.monotonic() - started), made


async def main(seconds: float, clients: int) -> None:
    stack = StackEnv.load(DevstackSettings().env_file)
    pool = await asyncpg.create_pool(stack.database_url, min_size=2, max_size=clients + 2)
    rows: list[tuple[str, str]] = []
    try:
        async with throwaway_tenant(stack, pool) as tenant:
            async with TenantUnitOfWork(pool, tenant) as conn:
                await seed_demo_catalogue(conn, "dental-clinic")
                [service] = [s for s in await list_services(conn) if s.name == "Consultation"]
            calendar = Calendar(pool, tenant, service.id)
            slots = await calendar.free()
            print(f"tenant {tenant.slug}: {len(slots)} free consultation slots in a week",
                  flush=True)
            for label, n in (("1 client", 1), (f"{clients} clients", clients)):
                rows.append((f"availability, empty week, {label}",
                             f"{await rate(seconds, n, calendar.free):,.0f} queries/s"))
            wanted = apart(slots)
            one, made_one = await book_all(calendar, wanted[: len(wanted) // 2], 1)
            rows.append(("book(), 1 client", f"{one:,.0f} bookings/s ({made_one} made)"))
            many, made_many = await book_all(calendar, wanted[len(wanted) // 2:], clients)
            rows.append((f"book(), {clients} clients", f"{many:,.0f} bookings/s "
                         f"({made_many} made)"))
            for label, n in (("1 client", 1), (f"{clients} clients", clients)):
                rows.append((f"availability, half-booked week, {label}",
                             f"{await rate(seconds, n, calendar.free):,.0f} queries/s"))
    finally:
        await pool.close()
    print()
    print("| booking engine (local stack, demo clinic, consultations, 2 dentists) | value |")
    print("| --- | ---: |")
    for what, value in rows:
        print(f"| {what} | {value} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each rate test")
    parser.add_argument("--clients", type=int, default=8, help="parallel clients")
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.clients))
