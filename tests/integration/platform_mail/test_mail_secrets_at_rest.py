"""The secrets the platform mails (an invitation's token, an access code) and the addresses it
mails them to are readable nowhere the platform keeps data: not in the tenant's Postgres heap
files, not in the WAL (as logical decoding shows it), not in Kafka's log files and not in
Redis's files, while each probe sees what it should (our rows, our events, a control value
written in clear). Kafka and Redis hold much that is not ours: a secret must not be there
more often after the mails than before (an eight-digit code can occur by chance in old data)."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from pathlib import Path

import asyncpg
import redis.asyncio as aioredis

from simptu.devstack.stack import Stack
from tests.integration.email.test_email_at_rest import readable, tenant_heap
from tests.integration.platform_mail.conftest import Platform, link_in, new_address


def stored_bytes(folder: Path) -> bytes:
    """Every file under `folder`; those removed meanwhile (other tests delete their topics) are
    skipped (os.walk passes over folders that vanish)."""
    found = []
    for parent, _, names in os.walk(folder):
        for name in names:
            try:
                found.append((Path(parent) / name).read_bytes())
            except FileNotFoundError:
                continue
    return b"".join(found)


def snapshot(stack: Stack) -> dict[str, bytes]:
    return {"Kafka": stored_bytes(stack.ctx.folder("kafka") / "data"),
            "Redis": stored_bytes(stack.ctx.folder("redis") / "data")}


async def test_mailed_tokens_codes_and_addresses_are_readable_nowhere_at_rest(
        platform: Platform, db: asyncpg.Pool, redis_client: aioredis.Redis,
        local_stack: Stack, unique: str) -> None:
    control = f"control-{uuid.uuid4().hex}"  # written in clear: each probe must see it
    slot = f"{unique}_platform_mail_probe"
    async with db.acquire() as conn:
        before = {**await asyncio.to_thread(snapshot, local_stack),
                  "Postgres heap": await tenant_heap(conn, platform.tenant.schema)}
        await conn.execute("SELECT pg_create_logical_replication_slot($1, 'test_decoding')", slot)
        try:
            invitee = new_address()
            invitation = await platform.invite(invitee, "staff", "en")
            link_in(await platform.mail(invitee, "You are invited to"))
            customer, _ = await platform.customer("ro")
            asked = await platform.api.post("/v1/access-codes/request", json={
                "email": customer}, headers={"X-Simptu-Tenant": platform.tenant.slug})
            assert asked.status_code == 202, asked.text
            coded = await platform.mail(customer, "Codul dumneavoastră de acces")
            await conn.execute("SELECT pg_logical_emit_message(true, 'probe', $1::text)",
                               control)
            changes = await conn.fetch("SELECT data FROM pg_logical_slot_get_changes($1, NULL, "
                                       "NULL, 'include-xids', '0')", slot)
        finally:
            await conn.execute("SELECT pg_drop_replication_slot($1)", slot)
        heap = await tenant_heap(conn, platform.tenant.schema)
    text = coded.get_body(("plain",))
    assert text is not None
    [code] = re.findall(r"\b\d{8}\b", text.get_content())
    secrets = [invitation["token"], code, invitee, customer]

    wal = "\n".join(change["data"] for change in changes).encode()
    assert f"{platform.tenant.schema}.platform_mails: INSERT".encode() in wal
    assert f"{platform.tenant.schema}.access_codes: INSERT".encode() in wal
    assert control.encode() in wal
    assert [value for secret in secrets for value in readable(secret) if value in wal] == []

    await redis_client.set(f"simptu-test:{unique}", control, ex=60)
    async with asyncio.timeout(30):
        while control.encode() not in (after := await asyncio.to_thread(  # noqa: ASYNC110
                snapshot, local_stack))["Redis"]:
            await asyncio.sleep(0.5)
    after["Postgres heap"] = heap
    assert uuid.UUID(invitation["id"]).bytes in heap  # the files that hold our rows
    assert invitation["id"].encode() in after["Kafka"]  # the invitation's event is in these
    for place, found in after.items():
        grown = [value for secret in secrets for value in readable(secret)
                 if found.count(value) > before[place].count(value)]
        assert grown == [], f"a mailed secret is readable in {place}"
