"""Booking.com reservations into bookings, on a throwaway hotel tenant of the running stack;
prints a markdown table.

    .venv/bin/python bench/bench_booking_com.py [--reservations N] [--mails M]

1. The OTA poller (in this process) against the Booking.com stand-in (served in this process):
   N new reservations queued in OTA_HotelResNotif (each a 2-night stay in a double room, on
   dates of its own), then rounds of `poll` until Booking.com has every acknowledgement:
   reservations applied and acknowledged per second, and the round's time per reservation
   (fetch, parse, one transaction each: customer sealed, room locked, booking, outbox event).
   Then N modifications (each stay moved a day later) through OTA_HotelResModifyNotif.
2. Reservation mails: M Booking.com mails, DKIM-signed (2048-bit RSA), read by the recogniser
   (DKIM verified, parsed) alone, then each dispatched as the mail ingest does (parse, dedupe,
   recogniser, booking): mails per second and the p50/p99 per mail.

The tenant (schema, keys, registry row) is removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import email.policy
import time
from decimal import Decimal

import asyncpg
import httpx
import redis.asyncio as aioredis
from bench_crypto import throwaway_tenant  # scripts beside this one
from bench_meta import machine, ms

from simptu.devstack.standins.booking_com import BookingComState, serve
from simptu.devstack.standins.booking_com_mail import DkimKey, reservation_mail
from simptu.devstack.standins.booking_com_payloads import QueuedReservation
from simptu.runtime.channels.booking_com.client import BookingComClient
from simptu.runtime.channels.booking_com.poller import CHANNEL, BookingComPoller
from simptu.runtime.channels.booking_com.reservation_mail import read_reservation_mail
from simptu.runtime.channels.booking_com.reservation_mails import ReservationMails, dns_with
from simptu.runtime.channels.email.dispatch import MailDispatch
from simptu.runtime.channels.email.parse import parse_mail
from simptu.runtime.core.bookings.demo import seed_demo_catalogue
from simptu.runtime.core.channels.accounts import ChannelAccount, ChannelAccounts, save_account
from simptu.runtime.core.chat.actions import Conversations
from simptu.runtime.core.crypto import KeyRing
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.registry import TenantRecord, TenantRegistry
from simptu.runtime.core.tenancy import TenantNames

PROPERTY = "7654321"
ACCOUNT = ChannelAccount(CHANNEL, PROPERTY, {"username": "bench", "password": "bench-pass"})
Row = tuple[str, int, float, str, str, str]


def stay(i: int, shift: int = 0) -> tuple[dt.date, dt.date]:
    check_in = dt.date.today() + dt.timedelta(days=30 + 3 * i + shift)
    return check_in, check_in + dt.timedelta(days=2)


def queued(i: int, status: str = "Commit", shift: int = 0) -> QueuedReservation:
    check_in, check_out = stay(i, shift)
    return QueuedReservation.model_validate({
        "property_id": PROPERTY, "reservation_id": f"{4_000_000_000 + i}", "status": status,
        "given_name": f"Guest{i}", "surname": "Bench", "check_in": check_in,
        "check_out": check_out, "room_name": "Double room", "total": Decimal(900),
        "currency": "RON"})


async def feed_rounds(poller: BookingComPoller, record: TenantRecord, state: BookingComState,
                      label: str, count: int) -> Row:
    """Rounds of the poller until Booking.com has every acknowledgement."""
    started, rounds = time.perf_counter(), 0
    while state.pending:
        await poller.poll(record)
        rounds += 1
    seconds = time.perf_counter() - started
    return (label, count, seconds, f"{count / seconds:.0f}", f"{seconds / count * 1000:.1f}",
            f"{rounds} round(s)")


async def mail_rates(conversations: Conversations, record: TenantRecord,
                     count: int) -> list[Row]:
    key = DkimKey.generate("booking.com")
    dns = dns_with({key.record_name: key.record})
    mails = [key.sign(reservation_mail(queued(10_000 + i), "rezervari@hotel.example"))
             for i in range(count)]
    started = time.perf_counter()
    for mail in mails:
        assert read_reservation_mail(mail, (), dns).verdict == "reservation"
    read = time.perf_counter() - started
    dispatch = MailDispatch(conversations, [ReservationMails(conversations, (), dns).recognise])
    each: list[float] = []
    for mail in mails:
        raw = mail.as_bytes(policy=email.policy.SMTP)
        began = time.perf_counter()
        assert await dispatch.dispatch(record, "rezervari@hotel.example",
                                       parse_mail(raw)) == "handled"
        each.append(time.perf_counter() - began)
    return [("mails read (DKIM verified, parsed)", count, read, f"{count / read:.0f}",
             f"{read / count * 1000:.2f}", "-"),
            ("mails dispatched and booked", count, sum(each), f"{count / sum(each):.0f}",
             ms(each, 50), ms(each, 99))]


async def measure(pool: asyncpg.Pool, redis: aioredis.Redis, ring: KeyRing,
                  names: TenantNames, reservations: int, mails: int) -> list[Row]:
    async with TenantUnitOfWork(pool, names) as conn:
        await seed_demo_catalogue(conn, "hotel")
        await save_account(conn, ring.cipher(names, conn), ACCOUNT, "bench")
    record = TenantRecord(slug=names.slug, status="Ready", business_type="hotel",
                          schema_name=names.schema, transit_key=names.transit_key,
                          locale="ro", timezone="Europe/Bucharest")
    conversations = Conversations(pool, ring, redis, "/simptu/bench", 4000)
    async with serve() as standin, httpx.AsyncClient(timeout=30) as http:
        await http.post(f"{standin.url}/_standin/accounts", json={
            **ACCOUNT.credentials, "property_ids": [PROPERTY]})
        poller = BookingComPoller(TenantRegistry(pool, redis), ChannelAccounts(pool, ring),
                                  conversations, BookingComClient(http, standin.url,
                                                                  standin.url))
        for i in range(reservations):
            standin.state.queue_reservation(queued(i))
        rows = [await feed_rounds(poller, record, standin.state,
                                  "new reservations (OTA feed)", reservations)]
        for i in range(reservations):
            standin.state.queue_reservation(queued(i, "Modify", shift=1))
        rows.append(await feed_rounds(poller, record, standin.state,
                                      "modifications (OTA feed)", reservations))
    return rows + await mail_rates(conversations, record, mails)


def table(rows: list[Row]) -> str:
    lines = ["| what | count | seconds | per second | ms each (mean; dispatched: p50) "
             "| p99 ms / rounds |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    lines += [f"| {what} | {count} | {seconds:.2f} | {rate} | {p50} | {p99} |"
              for what, count, seconds, rate, p50, p99 in rows]
    return "\n".join(lines)


async def main(reservations: int, mails: int) -> None:
    print(machine(), flush=True)
    async with throwaway_tenant() as (s, names), KeyRing(s.pool, s.keystore, s.redis) as ring:
        print(table(await measure(s.pool, s.redis, ring, names, reservations, mails)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reservations", type=int, default=300,
                        help="reservations through the OTA feed (then as many changes)")
    parser.add_argument("--mails", type=int, default=300, help="reservation mails")
    args = parser.parse_args()
    asyncio.run(main(args.reservations, args.mails))
