"""Delivery records against the tenant's schema: statuses the provider reports only move a
part forward, and a status that comes before the sender recorded the provider's id of the send
is kept and applied when it is recorded."""

from __future__ import annotations

import asyncio
import uuid

from simptu.devstack.standins.meta_payloads import new_wamid, whatsapp_text
from simptu.runtime.core.channels import deliveries
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.tenancy import TenantNames
from tests.integration.channels.conftest import CLINIC, Meta, new_customer


async def a_recorded_part(meta: Meta) -> deliveries.Part:
    """A pending part of a message in a new customer's WhatsApp conversation."""
    whatsapp, customer = meta.channel(CLINIC, "whatsapp"), new_customer()
    answer = await meta.post(whatsapp_text(whatsapp.object_id, customer, "Bună"),
                             whatsapp.app_secret)
    assert answer.status_code == 200
    session = await meta.session(CLINIC, "whatsapp", customer)
    assert session is not None
    async with TenantUnitOfWork(meta.db, TenantNames(CLINIC)) as conn:
        [part] = await deliveries.record_parts(conn, session["id"], "whatsapp", uuid.uuid4(), 1)
    return part


async def status_of(meta: Meta, part: deliveries.Part) -> tuple[str, str | None]:
    async with TenantUnitOfWork(meta.db, TenantNames(CLINIC)) as conn:
        row = await conn.fetchrow("SELECT status, error_code FROM channel_deliveries "
                                  "WHERE message_id = $1 AND part = $2",
                                  part.message_id, part.index)
    assert row is not None
    return row["status"], row["error_code"]


async def test_statuses_that_come_before_the_send_is_recorded_are_applied_then(
        meta: Meta) -> None:
    part, wamid = await a_recorded_part(meta), new_wamid()
    async with TenantUnitOfWork(meta.db, TenantNames(CLINIC)) as conn:
        assert not await deliveries.provider_status(conn, "whatsapp", wamid, "read")
        assert not await deliveries.provider_status(conn, "whatsapp", wamid, "delivered")
    async with TenantUnitOfWork(meta.db, TenantNames(CLINIC)) as conn:
        await deliveries.mark(conn, part, "sent", provider_message_id=wamid)
    assert await status_of(meta, part) == ("read", None)  # the furthest, whatever the order
    async with TenantUnitOfWork(meta.db, TenantNames(CLINIC)) as conn:
        kept = await conn.fetchval("SELECT count(*) FROM channel_early_statuses "
                                   "WHERE provider_message_id = $1", wamid)
    assert kept == 0


async def test_a_late_status_never_moves_a_part_back(meta: Meta) -> None:
    part, wamid = await a_recorded_part(meta), new_wamid()
    async with TenantUnitOfWork(meta.db, TenantNames(CLINIC)) as conn:
        await deliveries.mark(conn, part, "sent", provider_message_id=wamid)
        assert await deliveries.provider_status(conn, "whatsapp", wamid, "failed", "131026",
                                                "Message undeliverable")
        assert not await deliveries.provider_status(conn, "whatsapp", wamid, "delivered")
    assert await status_of(meta, part) == ("failed", "131026")


async def test_a_pending_part_is_claimed_for_sending_by_one_process_only(meta: Meta) -> None:
    """Replicas of a scheduled job (booking reminders) find the same pending part: one sends."""
    part = await a_recorded_part(meta)

    async def claim() -> bool:
        async with TenantUnitOfWork(meta.db, TenantNames(CLINIC)) as conn:
            return await deliveries.claim(conn, part)

    claims = await asyncio.gather(*(claim() for _ in range(4)))
    assert sorted(claims) == [False, False, False, True]
    assert await status_of(meta, part) == ("sending", None)
