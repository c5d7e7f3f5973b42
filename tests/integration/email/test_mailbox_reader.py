"""The mailbox reader against the stack's Dovecot, without the platform behind it: each
sender's mails are handed over in the mailbox's order and flagged Seen once handled, a mail
whose handling keeps failing is flagged for staff, and a refused login is reported once, then
its end. Which mailboxes are read: the demo tenants' addresses, each for its registry owner,
by one replica at a time; a mail stored with its conversation but not posted (a stop in
between) is posted once."""

from __future__ import annotations

import uuid
from typing import Any

import aioimaplib
import asyncpg
import pytest
import redis.asyncio as aioredis

from simptu.devstack.demo_channels import demo_mailbox, demo_mailboxes
from simptu.devstack.envfile import StackEnv
from simptu.runtime.channels.email.dispatch import MailDispatch
from simptu.runtime.channels.email.ingest import Mailbox, MailboxReader, MailIngest, ReadFailed
from simptu.runtime.channels.email.leases import MailboxLeases
from simptu.runtime.channels.email.parse import InboundMail, parse_mail
from simptu.runtime.core.channels.accounts import ChannelAccounts
from simptu.runtime.core.channels.routing import RegistryIndex
from simptu.runtime.core.chat.actions import Conversations, Posted
from simptu.runtime.core.crypto import KeyRing, OpenBaoTransit
from simptu.runtime.core.registry import TenantRegistry
from simptu.runtime.core.settings import CoreSettings
from tests.integration.email.conftest import Mail, new_customer, question

DEMO = {demo.slug for demo in demo_mailboxes()}


def mailbox(stack: StackEnv, password: str | None = None) -> Mailbox:
    address = f"reader-{uuid.uuid4().hex[:10]}@reader.test"
    return Mailbox("reader-test", address, stack["SIMPTU_MAIL_IMAP_URL"], address,
                   password or stack["SIMPTU_MAIL_PASSWORD"])


async def append(client: aioimaplib.IMAP4, box: Mailbox, senders: list[str]) -> list[str]:
    ids = []
    for n, sender in enumerate(senders):
        mail = question(sender, box.address, f"Întrebarea {n}", f"Bună ziua, întrebarea {n}.")
        assert (await client.append(bytes(mail))).result == "OK"
        ids.append(str(mail["Message-ID"]))
    return ids


async def flagged(client: aioimaplib.IMAP4, flag: str) -> int:
    found = await client.uid_search(flag)
    return len(b" ".join(found.lines[:-1]).split())


async def test_each_senders_mails_are_handled_in_order_and_flagged_seen(
        stack: StackEnv) -> None:
    box = mailbox(stack)
    handled: list[tuple[str, str]] = []

    async def handle(_: Mailbox, mail: InboundMail) -> str:
        handled.append((mail.sender, mail.message_id))
        return "posted"

    reader = MailboxReader(box, handle)
    client = await reader.open()
    try:
        senders = ["ana@c.test", "ion@c.test", "ana@c.test", "ion@c.test", "ana@c.test"]
        ids = await append(client, box, senders)
        assert await reader.drain(client) == 5
        for sender in ("ana@c.test", "ion@c.test"):
            theirs = [message_id for who, message_id in handled if who == sender]
            assert theirs == [i for i, who in zip(ids, senders, strict=True) if who == sender]
        assert await flagged(client, "SEEN") == 5
        assert await reader.drain(client) == 0  # nothing read twice
        assert len(handled) == 5
    finally:
        await client.logout()


async def test_a_mail_that_keeps_failing_is_flagged_for_staff(stack: StackEnv) -> None:
    box = mailbox(stack)
    attempts = 0

    async def handle(_: Mailbox, mail: InboundMail) -> str:
        nonlocal attempts
        attempts += 1
        raise RuntimeError("the database is away")

    reader = MailboxReader(box, handle)
    client = await reader.open()
    try:
        await append(client, box, ["ana@c.test"])
        assert await reader.drain(client) == 0  # failed: left unseen, read again next time
        assert await flagged(client, "UNSEEN") == 1
        await reader.drain(client)
        await reader.drain(client)
        assert attempts == 3
        assert await flagged(client, "FLAGGED") == 1
        assert await flagged(client, "UNSEEN") == 0  # given up on, not read again
    finally:
        await client.logout()


async def test_a_refused_login_is_reported_once_and_then_its_end(stack: StackEnv) -> None:
    told: list[str | None] = []

    async def login_outcome(_: Mailbox, refusal: str | None) -> None:
        told.append(refusal)

    reader = MailboxReader(mailbox(stack, password="not-the-password"),
                           lambda *_: _never(), login_outcome=login_outcome)
    for _ in range(2):
        with pytest.raises(ReadFailed, match="login"):
            await reader.open()
        await reader.close()
    assert len(told) == 1
    assert told[0] is not None
    reader.mailbox = mailbox(stack)
    client = await reader.open()
    await client.logout()
    assert told[1:] == [None]


async def _never() -> str:
    raise AssertionError("no mail is handled")


@pytest.fixture
def replica(db: asyncpg.Pool, key_ring: KeyRing, redis_client: aioredis.Redis,
            core_settings: CoreSettings, stack: StackEnv) -> MailIngest:
    """Another replica's mail ingest, beside the stack's channel senders (not started)."""
    return MailIngest(db, ChannelAccounts(db, key_ring), TenantRegistry(db, redis_client),
                      MailDispatch(Conversations(db, key_ring, redis_client, "/tests", 4000)),
                      RegistryIndex(OpenBaoTransit.from_settings(core_settings)),
                      stack["SIMPTU_MAIL_IMAP_URL"], stack["SIMPTU_MAIL_PASSWORD"],
                      leases=MailboxLeases(redis_client, 30))


async def test_only_addresses_the_registry_gives_a_tenant_are_read_for_it(
        replica: MailIngest) -> None:
    ingest = replica
    read = {(box.slug, box.address) for box in await ingest.wanted()}
    for demo in demo_mailboxes():
        assert {(demo.slug, address) for address in demo.addresses} <= read
    hotel = demo_mailbox("hotel-carpati-brasov").addresses[0]
    assert await ingest.owns("hotel-carpati-brasov", hotel)
    assert not await ingest.owns("zambet-dental-cluj", hotel)


class FailingOnce(Conversations):
    """Conversations whose first post fails, as if the process stopped right before it."""

    failed = False

    async def post_message(self, *args: Any, **kwargs: Any) -> Posted:
        if not self.failed:
            self.failed = True
            raise ConnectionResetError("stopped before posting")
        return await super().post_message(*args, **kwargs)


async def test_a_mail_stored_but_not_posted_is_posted_when_read_again_and_only_once(
        mail: Mail, db: asyncpg.Pool, key_ring: KeyRing, redis_client: aioredis.Redis) -> None:
    tenant = await TenantRegistry(db, redis_client).get(mail.slug)
    failing = FailingOnce(db, key_ring, redis_client, "/tests", 4000)
    customer = new_customer()
    inbound = parse_mail(bytes(question(customer, mail.address, "Cameră", "Aveți cameră?")))
    with pytest.raises(ConnectionResetError):
        await MailDispatch(failing).dispatch(tenant, mail.address, inbound)
    stored = await mail.row(inbound.message_id)  # kept with its conversation, not yet posted
    assert await mail.messages(stored["session_id"]) == []
    dispatch = MailDispatch(Conversations(db, key_ring, redis_client, "/tests", 4000))
    assert await dispatch.dispatch(tenant, mail.address, inbound) == "posted"
    assert await dispatch.dispatch(tenant, mail.address, inbound) == "duplicate"
    authors = [row["author"] for row in await mail.messages(stored["session_id"])]
    assert authors.count("customer") == 1
    await mail.reply_to(customer, inbound.message_id)  # answered by the stack's agent, once


async def test_a_mailbox_is_read_by_one_replica_at_a_time(
        redis_client: aioredis.Redis, replica: MailIngest, unique: str) -> None:
    first, second = MailboxLeases(redis_client, 30), MailboxLeases(redis_client, 30)
    assert await first.hold(unique, "ana@x.test")
    assert await first.hold(unique, "ana@x.test")  # renewed
    assert not await second.hold(unique, "ana@x.test")
    await first.release(unique, "ana@x.test")
    assert await second.hold(unique, "ana@x.test")
    await second.release(unique, "ana@x.test")
    # The stack's channel senders read the demo tenants' mailboxes: another replica does not.
    demo = {box for box in await replica.wanted() if box.slug in DEMO}
    assert demo
    taken = await replica.leased(demo)
    assert replica.leases is not None
    for box in taken:  # none, unless the stack's senders are restarting right now
        await replica.leases.release(box.slug, box.address)
    assert taken == set()
