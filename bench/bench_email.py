"""E-mail against the running local stack (Postfix → Dovecot, the channel senders' mail
ingest, the stack's agent); prints markdown tables.

    .venv/bin/python bench/bench_email.py [--mails N] [--replies M] [--no-hold]

1. Ingest: N mails (default 1,000) are put into one IMAP mailbox of the demo hotel's domain
   (IMAP APPEND, before the clock starts), then read by the platform's mailbox reader
   (`runtime/channels/email/ingest.py`, in this process, the same code the senders run),
   twice: while the stack's agent answers the new conversations, and with the agent held
   (SIGSTOP) during the read, as on a cluster where it has pods of its own:
   fetched in batches, parsed, loop-checked, threaded, stored sealed and posted to the
   hotel's conversations, each flagged Seen. Goal: >= 100 mails/s. Every mail starts a
   conversation of its own (20 customers), which the stack's agent answers by mail: the run
   waits for every reply to be sent before it removes its conversations.
2. Mail to reply: M questions (default 20), one at a time, sent by SMTP to the hotel's address
   as a customer would; timed from the hand-over to Postfix until the agent's reply (local
   model) is in the customer's mailbox (polled every 20 ms). Goal: report p50.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.utils
import imaplib
import json
import os
import signal
import statistics
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from urllib.parse import urlsplit

import aioimaplib
import asyncpg
from bench_meta import machine  # a script beside this one: bench/ is on sys.path
from bench_pipeline import remove_sessions

from simptu.devstack.demo_channels import demo_mailbox
from simptu.devstack.envfile import StackEnv
from simptu.devstack.mail_customer import open_inbox
from simptu.devstack.settings import DevstackSettings
from simptu.runtime.channels.email import threads
from simptu.runtime.channels.email.dispatch import MailDispatch
from simptu.runtime.channels.email.ingest import Mailbox, MailboxReader
from simptu.runtime.channels.email.parse import InboundMail
from simptu.runtime.channels.email.smtp import MailRelay
from simptu.runtime.core.chat.actions import Conversations
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.settings import CoreSettings
from simptu.runtime.core.tenancy import TenantNames
from simptu.runtime.core.wiring import Core, open_core

TENANT = "hotel-carpati-brasov"
CUSTOMERS = 20
QUESTIONS = ["Bună ziua, aveți camere libere weekendul viitor?",
             "Cât costă o cameră dublă pe noapte?", "Aveți parcare la hotel?",
             "Hello, is breakfast included in the price?"]
REPLY_WAIT = 600.0  # seconds every ingested mail may take to be answered


def core_settings(stack: StackEnv) -> CoreSettings:
    return CoreSettings.model_validate(
        {key.removeprefix("SIMPTU_").lower(): value for key, value in stack.values.items()}
        | {"bao_addr": stack["BAO_ADDR"], "bao_auth": "token", "bao_token": stack["BAO_TOKEN"]})


def question(customer: str, to: str, n: int) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = customer
    mail["To"] = to
    mail["Subject"] = f"Întrebare {n}"
    mail["Date"] = email.utils.formatdate()
    mail["Message-ID"] = f"<{uuid.uuid4()}@customers.test>"
    mail.set_content(QUESTIONS[n % len(QUESTIONS)])
    return mail


def empty_mailbox(stack: StackEnv, address: str) -> None:
    """Delete the bench's mails (the standard library's client: aioimaplib overflows its
    stack on a thousand EXPUNGE lines in one read)."""
    server = urlsplit(stack["SIMPTU_MAIL_IMAP_URL"])
    with imaplib.IMAP4(server.hostname or "127.0.0.1", server.port or 143, timeout=30) as imap:
        imap.login(address, stack["SIMPTU_MAIL_PASSWORD"])
        imap.select("INBOX")
        imap.uid("STORE", "1:*", "+FLAGS.SILENT", "(\\Deleted)")
        imap.expunge()


async def fill(stack: StackEnv, address: str, mails: int) -> list[str]:
    """Put `mails` questions into the mailbox; their Message-IDs."""
    client = await open_inbox(stack, address)
    customers = [f"bench-{uuid.uuid4().hex[:10]}@customers.test" for _ in range(CUSTOMERS)]
    ids = []
    for n in range(mails):
        mail = question(customers[n % CUSTOMERS], address, n)
        answer = await client.append(bytes(mail))
        assert answer.result == "OK", answer
        ids.append(str(mail["Message-ID"]))
    await client.logout()
    return ids


async def sessions_of(core: Core, message_ids: list[str]) -> list[uuid.UUID]:
    """The conversations the mails went to, found by their Message-IDs as ingest finds them."""
    tenant = TenantNames(TENANT)
    async with TenantUnitOfWork(core.pool, tenant) as conn:
        cipher = core.keyring.cipher(tenant, conn)
        indexes = [await threads.id_index(cipher, message_id) for message_id in message_ids]
        return [row["session_id"] for row in await conn.fetch(
            "SELECT DISTINCT session_id FROM email_messages WHERE message_index = "
            "ANY($1::bytea[]) AND session_id IS NOT NULL", indexes)]


async def replies_sent(db: asyncpg.Pool, sessions: list[uuid.UUID]) -> int:
    async with TenantUnitOfWork(db, TenantNames(TENANT)) as conn:
        return int(await conn.fetchval(
            "SELECT count(DISTINCT session_id) FROM channel_deliveries WHERE session_id = "
            "ANY($1::uuid[]) AND status NOT IN ('pending', 'sending')", sessions))


async def ingest(stack: StackEnv, core: Core, mails: int,
                 sessions: list[uuid.UUID]) -> tuple[int, float, float, float]:
    """Read `mails` mails from a mailbox of their own: (read, seconds, CPU s, load at start)."""
    domain = demo_mailbox(TENANT).addresses[0].split("@")[1]
    address = f"bench-{uuid.uuid4().hex[:8]}@{domain}"
    print(f"putting {mails} mails into {address} ...", flush=True)
    message_ids = await fill(stack, address, mails)
    conversations = Conversations(core.pool, core.keyring, core.redis, "/bench/email",
                                  core.settings.chat_max_text_chars)
    dispatch = MailDispatch(conversations)
    tenant = await core.registry.get(TENANT)

    async def handle(mailbox: Mailbox, mail: InboundMail) -> str:
        return await dispatch.dispatch(tenant, mailbox.address, mail)

    reader = MailboxReader(Mailbox(TENANT, address, stack["SIMPTU_MAIL_IMAP_URL"], address,
                                   stack["SIMPTU_MAIL_PASSWORD"]), handle)
    client = await reader.open()
    load = os.getloadavg()[0]
    start, cpu = time.perf_counter(), time.process_time()
    try:
        read = await reader.drain(client)
        return read, time.perf_counter() - start, time.process_time() - cpu, load
    finally:
        sessions += await sessions_of(core, message_ids)
        await client.logout()
        await asyncio.to_thread(empty_mailbox, stack, address)


@contextlib.contextmanager
def agent_held() -> Iterator[None]:
    """The stack's agent stopped (SIGSTOP) while the mailbox is read, then let go: on two
    cores the agent answering the new conversations takes one of them, where on a cluster
    it runs in pods of its own. What it did not answer meanwhile it answers after."""
    group = json.loads((DevstackSettings().state_dir / "run" / "agent.pid").read_text())["pid"]
    os.killpg(group, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(group, signal.SIGCONT)


async def ingest_both_ways(stack: StackEnv, core: Core, mails: int,
                           sessions: list[uuid.UUID], hold: bool) -> None:
    rows = [("answering", await ingest(stack, core, mails, sessions))]
    await answered(core, sessions)
    if hold:
        with agent_held():
            rows.append(("held", await ingest(stack, core, mails, sessions)))
    print("\n| the agent meanwhile | mails | read and posted | seconds | mails/s "
          "| reader CPU ms/mail | load avg (1 min) at start |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for agent, (read, seconds, cpu, load) in rows:
        print(f"| {agent} | {mails} | {read} | {seconds:.2f} | {read / seconds:.0f} | "
              f"{cpu / max(read, 1) * 1000:.1f} | {load:.2f} |")


async def answered(core: Core, sessions: list[uuid.UUID], *, report: bool = True) -> None:
    """Wait until the agent's reply in each conversation was sent (or refused): removing a
    conversation the agent is still answering fails its turn."""
    start = time.perf_counter()
    while (done := await replies_sent(core.pool, sessions)) < len(sessions):
        if time.perf_counter() - start > REPLY_WAIT:
            print(f"only {done} of {len(sessions)} conversations were answered")
            return
        await asyncio.sleep(1)
    if report:
            print(f"\nevery conversation answered by mail {time.perf_counter() - start:.1f} s "
              f"after the mails were read ({len(sessions)} conversations)")


async def wait_for_reply(client: aioimaplib.IMAP4, seen: int) -> float:
    while True:
        found = await client.uid_search("ALL")
        if len(b" ".join(found.lines[:-1]).split()) > seen:
            return time.perf_counter()
        await asyncio.sleep(0.02)


async def round_trips(stack: StackEnv, core: Core, replies: int,
                      sessions: list[uuid.UUID]) -> None:
    to = demo_mailbox(TENANT).addresses[0]
    relay = MailRelay(stack["SIMPTU_MAIL_SMTP_URL"])
    customer = f"bench-{uuid.uuid4().hex[:10]}@customers.test"
    asked = [question(customer, to, n) for n in range(replies + 1)]
    try:
        # The first (not timed) makes the customer's mailbox: its reply lands there.
        await relay.send(asked[0])
        client = await open_inbox(stack, customer)
        await wait_for_reply(client, 0)
        seconds = []
        for n in range(1, replies + 1):
            start = time.perf_counter()
            await relay.send(asked[n])
            seconds.append(await wait_for_reply(client, n) - start)
        await client.logout()
        await asyncio.to_thread(empty_mailbox, stack, customer)
    finally:
        sessions += await sessions_of(core, [str(mail["Message-ID"]) for mail in asked])
    ms = sorted(value * 1000 for value in seconds)
    p90 = statistics.quantiles(ms, n=10, method="inclusive")[-1] if len(ms) > 1 else ms[0]
    print("\n| questions (one at a time) | mail → reply in the mailbox p50 ms | p90 ms | max ms |")
    print("| ---: | ---: | ---: | ---: |")
    print(f"| {replies} | {statistics.median(ms):.0f} | {p90:.0f} | {ms[-1]:.0f} |")


async def main(mails: int, replies: int, hold: bool) -> None:
    stack = StackEnv.load(DevstackSettings().env_file)
    print(f"machine: {machine()}")
    sessions: list[uuid.UUID] = []
    async with open_core(core_settings(stack), client_id="bench-email",
                         publishes=False) as core:
        try:
            await ingest_both_ways(stack, core, mails, sessions, hold)
            await answered(core, sessions)
            await round_trips(stack, core, replies, sessions)
        finally:  # also after a failure: nothing is removed while the agent answers it
            await answered(core, sessions, report=False)
            await remove_sessions(core.pool, TENANT, sessions)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mails", type=int, default=1000,
                        help="mails put into one mailbox and ingested (default 1000)")
    parser.add_argument("--replies", type=int, default=20,
                        help="questions timed from mail to reply, one at a time (default 20)")
    parser.add_argument("--no-hold", action="store_true",
                        help="read only while the agent answers (never stop the agent)")
    args = parser.parse_args()
    asyncio.run(main(args.mails, args.replies, not args.no_hold))
