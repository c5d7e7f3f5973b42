"""Sealed customers leave no plaintext where Postgres keeps data: the table's heap file on disk
and the row changes in the WAL (as logical decoding shows them)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg

from simptu.runtime.core.crypto.blind_index import normalise_phone
from simptu.runtime.core.crypto.keyring import KeyRing
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.tenancy import TenantNames

Customer = dict[str, str]
MakeTenant = Callable[..., Awaitable[TenantNames]]
AddCustomers = Callable[[TenantNames, list[Customer]], Awaitable[list[uuid.UUID]]]

PEOPLE: list[Customer] = [
    {"name": "Ioana Vasilescu-Marinescu", "phone": "+40 722 555 0199",
     "email": "ioana.vasilescu@clinica-dentara.example",
     "notes": "Allergic to penicillin; prefers morning appointments"},
    {"name": "Bartholomew Quixley-Fairweather", "phone": "+44 20 7946 0321",
     "email": "bart.quixley@gym-members.example",
     "notes": "Knee surgery in March, no squats until cleared by physio"},
]


def secrets_of(people: list[Customer]) -> list[bytes]:
    """Every known value as it could appear at rest: as given, normalised, and hex-encoded
    (the way logical decoding prints bytea)."""
    values = [value for person in people for value in person.values()]
    values += [normalise_phone(person["phone"]) for person in people]
    raw = [value.encode() for value in values]
    return raw + [value.hex().encode() for value in raw]


def leaked(haystack: bytes, people: list[Customer]) -> list[bytes]:
    return [secret for secret in secrets_of(people) if secret in haystack]


async def add_unsealed_control_row(db: asyncpg.Pool, tenant: TenantNames, marker: str) -> None:
    """A row whose notes are stored in clear: proof that the probe would see a leak."""
    async with TenantUnitOfWork(db, tenant) as conn:
        await conn.execute("INSERT INTO customers (id, notes) VALUES ($1, $2)", uuid.uuid4(),
                           marker.encode())


async def test_the_table_file_on_disk_holds_no_plaintext(
    db: asyncpg.Pool, make_keyed_tenant: MakeTenant, add_customers: AddCustomers
) -> None:
    tenant = await make_keyed_tenant()
    ids = await add_customers(tenant, PEOPLE)
    await add_unsealed_control_row(db, tenant, "control: stored in clear on purpose")
    async with db.acquire() as conn:
        await conn.execute("CHECKPOINT")  # flush the table's pages to its file
        data_dir = Path(await conn.fetchval("SHOW data_directory"))
        relative = await conn.fetchval("SELECT pg_relation_filepath($1::regclass)",
                                       f"{tenant.schema}.customers")
    heap = (data_dir / relative).read_bytes()
    assert all(row_id.bytes in heap for row_id in ids)  # the file holding our rows
    assert b"control: stored in clear on purpose" in heap  # the probe sees what is in clear
    assert leaked(heap, PEOPLE) == []


async def test_the_wal_carries_no_plaintext(db: asyncpg.Pool, make_keyed_tenant: MakeTenant,
                                            add_customers: AddCustomers, unique: str) -> None:
    tenant = await make_keyed_tenant()
    slot = f"{unique}_wal_probe"
    async with db.acquire() as conn:
        await conn.execute("SELECT pg_create_logical_replication_slot($1, 'test_decoding')", slot)
        try:
            ids = await add_customers(tenant, PEOPLE)
            await add_unsealed_control_row(db, tenant, "control: stored in clear on purpose")
            changes = await conn.fetch("SELECT data FROM pg_logical_slot_get_changes($1, NULL, "
                                       "NULL)", slot)
        finally:
            await conn.execute("SELECT pg_drop_replication_slot($1)", slot)
    wal = "\n".join(row["data"] for row in changes).encode()
    assert all(str(row_id).encode() in wal for row_id in ids)  # the decoded inserts are there
    assert b"control: stored in clear on purpose".hex().encode() in wal  # a leak would show
    assert leaked(wal, PEOPLE) == []


async def test_a_customer_is_found_by_phone_or_e_mail_written_differently(
    db: asyncpg.Pool, make_keyed_tenant: MakeTenant, add_customers: AddCustomers,
    ring: KeyRing
) -> None:
    tenant = await make_keyed_tenant()
    ids = await add_customers(tenant, PEOPLE)
    async with TenantUnitOfWork(db, tenant) as conn:
        cipher = ring.cipher(tenant, conn)
        by_phone = await conn.fetchval("SELECT id FROM customers WHERE phone_index = $1",
                                       await cipher.blind_index("phone", "+44 (20) 7946-0321"))
        by_email = await conn.fetchval(
            "SELECT id FROM customers WHERE email_index = $1",
            await cipher.blind_index("email", "  IOANA.Vasilescu@Clinica-Dentara.example "))
    assert (by_phone, by_email) == (ids[1], ids[0])
