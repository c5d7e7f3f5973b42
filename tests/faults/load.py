"""The load the fault tests and `bench/bench_faults.py` run: N web-chat conversations, each a
stock phoenix.js socket (one Node process drives them all, so their messages are in flight at
once) that rejoins with the last event id it saw after any disconnect; every message carries a
unique marker. A conversation may also book (`request_bookings`, `confirm`, `confirmed`): a
consultation on a random weekday 60-300 days ahead at 10:00, confirmed with the page's
`function_result`. The ledger then checks, from the API's history, the tenant's bookings and
the clients' own events, that every accepted message got exactly one agent reply, that every
booking requested once exists once and its confirmation was answered once, that no client saw
a part twice or a gap in a reply's deltas, and that a refused message was refused with a
reason the client can retry on (a refused or unanswered push is sent again with the same
client_msg_id, which the platform stores once)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import random
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import asyncpg
import httpx

from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.tenancy import TenantNames
from tests.integration.ws.phoenix_driver import PhoenixDriver

ACCEPT_TIMEOUT = 60.0  # bound on a message being accepted, retries included
ANSWER_TIMEOUT = 90.0  # bound on its reply, a restarted runtime's start included
RETRY_PAUSE = 0.5
QUESTION = "Care este programul de lucru?"  # the local model answers it from its templates
MONTHS = ("ianuarie", "februarie", "martie", "aprilie", "mai", "iunie", "iulie", "august",
          "septembrie", "octombrie", "noiembrie", "decembrie")
BOOKED = "confirmată"  # in the agent's reply to a confirmed booking
# A conversation's bookings, by its session id: each one's start (in the tenant's time zone)
# and status.
BookingsOf = Callable[[str], Awaitable[list[tuple[dt.datetime, str]]]]


@dataclass
class Conversation:
    socket: str
    session_id: str
    token: str

    @property
    def topic(self) -> str:
        return f"chat:{self.session_id}"


@dataclass
class Sent:
    """One customer message and what became of it."""

    conversation: Conversation
    marker: str
    question: str = QUESTION
    client_msg_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    message_id: str | None = None
    refusals: list[str] = field(default_factory=list)
    reply: dict[str, Any] | None = None
    sent_at: float = field(default_factory=time.monotonic)
    answered_at: float | None = None

    @property
    def text(self) -> str:
        return f"{self.question} [{self.marker}]"


@dataclass
class Booking:
    """A booking a conversation asked for once (`request`, answered with a proposal and a
    function_call) and confirmed (the page's function_result, answered with `reply`)."""

    request: Sent
    day: dt.date
    call: dict[str, Any] | None = None
    confirmations: int = 0  # function_result pushes the hub accepted
    reply: dict[str, Any] | None = None


@dataclass
class Ledger:
    """What the check found; `problems` is empty when nothing was lost or doubled."""

    accepted: int = 0
    answered: int = 0
    bookings: int = 0  # requested
    booked: int = 0  # stored
    refusals: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


class Load:
    def __init__(self, phoenix: PhoenixDriver, api_url: str, ws_url: str, tenant: str,
                 origin: str, bookings_of: BookingsOf | None = None) -> None:
        self.phoenix = phoenix
        self.bookings_of = bookings_of
        self.bookings: list[Booking] = []
        self.api_url = api_url
        self.ws_url = ws_url
        self.tenant = tenant
        self.origin = origin
        self.conversations: list[Conversation] = []
        self.sent: list[Sent] = []
        self._tags = 0

    async def open(self, count: int, ws_url: str | None = None) -> list[Conversation]:
        """`count` new guest conversations, through the API, joined on the hub (at `ws_url`,
        another replica's)."""
        opened = len(self.conversations)
        async with httpx.AsyncClient(base_url=self.api_url, timeout=30) as api:
            for _ in range(count):
                answer = await api.post("/v1/chat/guest", json={"locale": "ro"}, headers={
                    "X-Simptu-Tenant": self.tenant, "Origin": self.origin})
                assert answer.status_code == 201, answer.text
                guest = answer.json()
                chat = Conversation(f"c{len(self.conversations)}", guest["session_id"],
                                    guest["token"])
                await self.phoenix.connect(chat.socket, ws_url or self.ws_url, chat.token)
                joined = await self.phoenix.join(chat.socket, chat.topic, resume=True)
                assert joined["status"] == "ok", joined
                self.conversations.append(chat)
        return self.conversations[opened:]

    async def round(self) -> list[Sent]:
        """One message per conversation, all in flight at once, each accepted (retried as a
        client would while the platform refuses) and answered."""
        batch = await self.post()
        await self.accepted(batch)
        await self.answered(batch)
        return batch

    async def post(self) -> list[Sent]:
        batch = [Sent(chat, uuid.uuid4().hex[:12]) for chat in self.conversations]
        self.sent += batch
        return batch

    async def accepted(self, batch: list[Sent]) -> None:
        """Push each message until the platform accepts it (bounded)."""
        async with asyncio.timeout(ACCEPT_TIMEOUT):
            while pending := [sent for sent in batch if sent.message_id is None]:
                await self.attempt(pending)
                if any(sent.message_id is None for sent in pending):
                    await asyncio.sleep(RETRY_PAUSE)

    async def attempt(self, batch: list[Sent]) -> None:
        """Push each message once, all at once; note whether it was accepted or why not."""
        tags = [await self._push(sent) for sent in batch]
        for sent, tag in zip(batch, tags, strict=True):
            answer = await self.phoenix.expect(partial(_is_reply_to, tag))
            if answer["status"] == "ok":
                sent.message_id = answer["response"]["message_id"]
            else:
                reason = answer.get("response", {}).get("reason", answer["status"])
                sent.refusals.append(str(reason))

    async def _push(self, sent: Sent) -> str:
        return await self._push_event(sent.conversation, "message", {
            "text": sent.text, "client_msg_id": sent.client_msg_id})

    async def _push_event(self, chat: Conversation, event: str, payload: dict[str, Any]) -> str:
        """Push `event` on the conversation's channel; the tag its reply will carry."""
        self._tags += 1
        tag = f"load:{self._tags}"
        await self.phoenix.command("push", socket=chat.socket, topic=chat.topic, event=event,
                                   tag=tag, payload=payload)
        return tag

    async def answered(self, batch: list[Sent]) -> None:
        """Wait (bounded) for the agent's reply to each accepted message; one that does not
        come is left unanswered, for the ledger to report."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(ANSWER_TIMEOUT):
                for sent in batch:
                    if sent.message_id is None or sent.reply is not None:
                        continue
                    sent.reply = await self.phoenix.event(
                        sent.conversation.socket, "reply", partial(_answers, sent.message_id))
                    sent.answered_at = time.monotonic()

    async def request_bookings(self) -> list[Booking]:
        """Each conversation asks for a consultation on a weekday of its own 60-300 days
        ahead at 10:00 (a day's free slots are ample: no two conversations take the same day)
        and is answered with a proposal and its function_call."""
        taken = {booking.day for booking in self.bookings}
        batch = []
        for chat in self.conversations:
            day = _free_weekday(taken)
            taken.add(day)
            # Letters only: a marker's digits could read as a day or an hour.
            marker = uuid.uuid4().hex[:12].translate(str.maketrans("0123456789", "ghijklmnop"))
            question = (f"Bună! Vreau o consultație pe {day.day} {MONTHS[day.month - 1]} "
                        "la 10, mă numesc Ana Pop")
            batch.append(Booking(Sent(chat, marker, question), day))
        self.bookings += batch
        requests = [booking.request for booking in batch]
        self.sent += requests
        await self.accepted(requests)
        await self.answered(requests)
        for booking in batch:
            if booking.request.reply is not None:
                booking.call = await self.phoenix.event(
                    booking.request.conversation.socket, "function_call",
                    lambda call: call["name"] == "confirm_booking")
        return batch

    async def confirm(self, batch: list[Booking]) -> None:
        """The page's confirmation of each proposal, pushed until the hub accepts it."""
        async with asyncio.timeout(ACCEPT_TIMEOUT):
            for booking in batch:
                if booking.call is None:
                    continue
                while True:
                    tag = await self._push_event(
                        booking.request.conversation, "function_result",
                        {"call_id": booking.call["call_id"], "result": {"confirmed": True}})
                    answer = await self.phoenix.expect(partial(_is_reply_to, tag))
                    if answer["status"] == "ok":
                        booking.confirmations += 1
                        break
                    booking.request.refusals.append(
                        str(answer.get("response", {}).get("reason", answer["status"])))
                    await asyncio.sleep(RETRY_PAUSE)

    async def confirmed(self, batch: list[Booking]) -> None:
        """Wait (bounded) for the agent's answer to each confirmation; one that does not come
        is left for the ledger to report."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(ANSWER_TIMEOUT):
                for booking in batch:
                    if booking.confirmations and booking.reply is None:
                        booking.reply = await self.phoenix.event(
                            booking.request.conversation.socket, "reply",
                            lambda reply: BOOKED in reply["text"])

    async def first_delta(self, batch: list[Sent], mark: int | None = None) -> None:
        """Until a reply to this batch has begun streaming (a delta seen after `mark`, by
        default after now)."""
        mark = len(self.phoenix.seen) if mark is None else mark
        sockets = {sent.conversation.socket for sent in batch}
        await self.phoenix.expect(lambda line: line["type"] == "event"
                                  and line["event"] == "reply_delta"
                                  and line["socket"] in sockets
                                  and self.phoenix.seen.index(line) >= mark)

    async def check(self) -> Ledger:
        """The ledger: the API's history and every client's events against what was sent."""
        ledger = Ledger()
        async with httpx.AsyncClient(base_url=self.api_url, timeout=30) as api:
            for chat in self.conversations:
                history = await _history(api, chat)
                self._check_conversation(chat, history, ledger)
                await self._check_bookings(chat, history, ledger)
        return ledger

    async def _check_bookings(self, chat: Conversation, history: list[dict[str, Any]],
                              ledger: Ledger) -> None:
        """Each booking the conversation asked for exists once, booked, at 10:00 on its day,
        and its confirmation was answered once; the conversation has no other booking."""
        mine = [booking for booking in self.bookings if booking.request.conversation is chat]
        if not mine:
            return
        assert self.bookings_of is not None, "a load that books needs `bookings_of`"
        stored = await self.bookings_of(chat.session_id)
        ledger.booked += len(stored)
        for booking in mine:
            ledger.bookings += 1
            wanted = dt.datetime.combine(booking.day, dt.time(10))
            found = [status for start, status in stored if start.replace(tzinfo=None) == wanted]
            if found != ["booked"]:
                ledger.problems.append(f"{booking.request.marker}: booking on {wanted} stored "
                                       f"as {found}")
            if booking.reply is None:
                ledger.problems.append(f"{booking.request.marker}: confirmation not answered")
                continue
            answers = [m for m in history if m["id"] == booking.reply["message_id"]]
            if [m["author"] for m in answers] != ["agent"]:
                ledger.problems.append(f"{booking.request.marker}: the confirmation's answer "
                                       "is not stored once")
        if len(stored) != len(mine):
            ledger.problems.append(f"{chat.socket}: {len(stored)} bookings stored for "
                                   f"{len(mine)} requested")

    def _check_conversation(self, chat: Conversation, history: list[dict[str, Any]],
                            ledger: Ledger) -> None:
        mine = [sent for sent in self.sent if sent.conversation is chat]
        for sent in mine:
            ledger.refusals.update(sent.refusals)
            stored = [m for m in history if m["author"] == "customer" and sent.marker in m["text"]]
            if sent.message_id is None:
                ledger.problems.append(f"{sent.marker}: never accepted ({sent.refusals})")
                continue
            ledger.accepted += 1
            if [m["id"] for m in stored] != [sent.message_id]:
                ledger.problems.append(f"{sent.marker}: stored {len(stored)} times")
            if sent.reply is None:
                ledger.problems.append(f"{sent.marker}: no reply reached the client")
                continue
            ledger.answered += 1
            if [m["author"] for m in history if m["id"] == sent.reply["message_id"]] != ["agent"]:
                ledger.problems.append(f"{sent.marker}: its reply is not stored once")
        agent_messages = [m for m in history if m["author"] == "agent"]
        accepted = [sent for sent in mine if sent.message_id is not None]
        confirmations = [b for b in self.bookings
                         if b.request.conversation is chat and b.confirmations]
        if len(agent_messages) != len(accepted) + len(confirmations):
            ledger.problems.append(f"{chat.socket}: {len(agent_messages)} agent replies stored "
                                   f"for {len(accepted)} accepted messages and "
                                   f"{len(confirmations)} confirmations")
        ledger.problems += self._client_problems(chat)

    def _client_problems(self, chat: Conversation) -> list[str]:
        """Duplicates and gaps in what the client rendered, resumes included."""
        problems = []
        deltas = self.phoenix.events(chat.socket, "reply_delta")
        parts = Counter((d["message_id"], d["seq"]) for d in deltas)
        problems += [f"{chat.socket}: delta {part} seen {n} times"
                     for part, n in parts.items() if n > 1]
        replies = Counter(r["message_id"] for r in self.phoenix.events(chat.socket, "reply"))
        problems += [f"{chat.socket}: reply {m} seen {n} times" for m, n in replies.items()
                     if n > 1]
        for message_id in replies:
            seqs = sorted(seq for m, seq in parts if m == message_id)
            if seqs and seqs != list(range(len(seqs))):
                problems.append(f"{chat.socket}: reply {message_id} has deltas {seqs}")
        echoes = Counter(m["message_id"] for m in self.phoenix.events(chat.socket, "message"))
        problems += [f"{chat.socket}: message {m} seen {n} times" for m, n in echoes.items()
                     if n > 1]
        return problems


def _free_weekday(taken: set[dt.date]) -> dt.date:
    """A weekday 60-300 days ahead not in `taken`."""
    while True:
        day = dt.date.today() + dt.timedelta(days=random.randint(60, 300))  # noqa: S311
        if day.weekday() < 5 and day not in taken:
            return day


async def bookings_of(pool: asyncpg.Pool, names: TenantNames, timezone: str,
                      session_id: str) -> list[tuple[dt.datetime, str]]:
    """The bookings of a conversation's customer, from the tenant's schema (`BookingsOf`)."""
    async with TenantUnitOfWork(pool, names) as conn:
        rows = await conn.fetch(
            "SELECT b.start_at AT TIME ZONE $2 AS start, b.status FROM bookings b "
            "JOIN chat_sessions s ON s.customer_id = b.customer_id WHERE s.id = $1",
            uuid.UUID(session_id), timezone)
    return [(row["start"], row["status"]) for row in rows]


def _is_reply_to(tag: str, line: dict[str, Any]) -> bool:
    return bool(line["type"] == "reply" and line["tag"] == tag)


def _answers(message_id: str, reply: dict[str, Any]) -> bool:
    return bool(reply["in_reply_to"] == message_id)


async def _history(api: httpx.AsyncClient, chat: Conversation) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        answer = await api.get(f"/v1/chat/sessions/{chat.session_id}/messages",
                               params={"limit": 100, **({"cursor": cursor} if cursor else {})},
                               headers={"Authorization": f"Bearer {chat.token}"})
        assert answer.status_code == 200, answer.text
        page = answer.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items
