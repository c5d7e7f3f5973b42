"""A customer's mail leaves nothing readable where the platform keeps data: its subject and
text are in no Postgres heap file of the tenant, not in the WAL (as logical decoding shows
it), not in the tenant's Kafka topics' log files and not in Redis's append-only file, while
each probe sees what it should (our rows, our events, a control value written in clear)."""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg
import redis.asyncio as aioredis

from simptu.devstack.stack import Stack
from simptu.runtime.core.tenancy import TenantNames
from tests.integration.email.conftest import HOTEL, Mail, new_customer, question


def readable(marker: str) -> list[bytes]:
    """The marker as it could appear at rest: as written, and hex (how WAL decoding prints
    bytea)."""
    return [marker.encode(), marker.encode().hex().encode()]


def files_under(folder: Path, pattern: str = "*") -> bytes:
    return b"".join(path.read_bytes() for path in folder.glob(f"{pattern}/**/*")
                    if path.is_file())


async def tenant_heap(conn: asyncpg.Connection, schema: str) -> bytes:
    """Every table, index and TOAST file of the tenant's schema, flushed to disk."""
    await conn.execute("CHECKPOINT")
    data_dir = Path(await conn.fetchval("SHOW data_directory"))
    paths = await conn.fetch(
        "SELECT pg_relation_filepath(c.oid) AS path FROM pg_class c JOIN pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname IN ($1, 'pg_toast') AND c.relkind IN "
        "('r', 't', 'i') AND pg_relation_filepath(c.oid) IS NOT NULL", schema)
    found = b""
    for row in paths:
        for segment in (data_dir / row["path"]).parent.glob(Path(row["path"]).name + "*"):
            found += segment.read_bytes()
    return found


async def test_a_mails_subject_and_text_are_readable_nowhere_at_rest(
        mail: Mail, db: asyncpg.Pool, redis_client: aioredis.Redis,
        local_stack: Stack, unique: str) -> None:
    marker = uuid.uuid4().hex
    subject, text = f"Subiect-{marker}", f"Bună ziua, codul meu de client este Text-{marker}."
    control = f"control-{marker}"  # written in clear, so each probe proves it sees a leak
    slot = f"{unique}_mail_probe"
    tenant = TenantNames(HOTEL)
    async with db.acquire() as conn:
        await conn.execute("SELECT pg_create_logical_replication_slot($1, 'test_decoding')", slot)
        try:
            customer = new_customer()
            asked = await mail.send(question(customer, mail.address, subject, text))
            await mail.reply_to(customer, asked)
            await conn.execute("SELECT pg_logical_emit_message(true, 'probe', $1::text)",
                               control)
            changes = await conn.fetch(
                "SELECT data FROM pg_logical_slot_get_changes($1, NULL, NULL, "
                "'include-xids', '0')", slot)
        finally:
            await conn.execute("SELECT pg_drop_replication_slot($1)", slot)
        heap = await tenant_heap(conn, tenant.schema)
    row = await mail.row(asked)
    session = str(row["session_id"]).encode()
    wal = "\n".join(change["data"] for change in changes).encode()
    assert f"{tenant.schema}.email_messages: INSERT".encode() in wal  # our row was decoded
    assert control.encode() in wal
    assert row["id"].bytes in heap  # the files that hold our rows
    # The log segments of the tenant's topics (inbound, outbound, events).
    kafka = files_under(local_stack.ctx.folder("kafka") / "data", f"simptu.{HOTEL}.*")
    assert session in kafka  # the tenant's events about this conversation are in these files
    await redis_client.set(f"simptu-test:{unique}", control, ex=60)
    redis_files = files_under(local_stack.ctx.folder("redis") / "data")
    assert control.encode() in redis_files
    for place, found in (("postgres heap", heap), ("WAL", wal), ("Kafka", kafka),
                         ("Redis", redis_files)):
        assert [value for value in readable(subject) + readable(text) if value in found] == [], \
            f"the mail is readable in {place}"
