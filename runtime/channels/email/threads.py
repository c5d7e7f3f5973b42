"""The tenant's mails by Message-ID (blind-indexed; headers sealed): which conversation a
reply belongs to, whether a mail was seen before, and what the next reply must name."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field

import asyncpg

from simptu.runtime.core.chat import store
from simptu.runtime.core.crypto import TenantCipher

TABLE = "email_messages"
ID_INDEX = "email_message_id"  # the blind-index column of Message-IDs
THREAD_INDEX = "email_thread"  # the conversation key of an e-mail thread


@dataclass(frozen=True)
class Headers:
    """What a mail's row keeps sealed."""

    message_id: str
    subject: str = ""
    references: list[str] = field(default_factory=list)
    tenant_address: str = ""  # the tenant's address the customer wrote to (or we wrote from)
    attachments: list[list[str | int]] = field(default_factory=list)  # [name, size]

    def chain(self) -> list[str]:
        """The References of a reply to this mail: its own and its id, oldest first."""
        return list(dict.fromkeys([*self.references, self.message_id]))


@dataclass(frozen=True)
class Thread:
    session_id: uuid.UUID
    key: bytes  # the session's contact index: the thread's conversation key


async def id_index(cipher: TenantCipher, message_id: str) -> bytes:
    return await cipher.blind_index(ID_INDEX, message_id)


async def thread_key(cipher: TenantCipher, customer: str, root_id: str) -> bytes:
    """The conversation key of a new thread: the customer and the mail that started it, so
    a customer may have many threads open (one mail client conversation each)."""
    return await cipher.blind_index(THREAD_INDEX, f"{customer.lower()}\x00{root_id}")


@dataclass(frozen=True)
class Stored:
    """A mail stored before: what became of it, and the key of its conversation's thread."""

    outcome: str
    thread_key: bytes | None


async def stored(conn: asyncpg.Connection, cipher: TenantCipher,
                 message_id: str) -> Stored | None:
    row = await conn.fetchrow(
        "SELECT e.outcome, s.contact_index FROM email_messages e LEFT JOIN chat_sessions s "
        "ON s.id = e.session_id WHERE e.message_index = $1", await id_index(cipher, message_id))
    return None if row is None else Stored(row["outcome"], row["contact_index"])


async def thread_of(conn: asyncpg.Connection, cipher: TenantCipher, customer: str,
                    named: tuple[str, ...]) -> Thread | None:
    """The open conversation of the first id named (In-Reply-To, then References) that the
    tenant stored, when it is this customer's: someone else who learnt a Message-ID (a Cc)
    starts a thread of their own."""
    for message_id in named:
        row = await conn.fetchrow(
            "SELECT s.id, s.contact, s.contact_index FROM email_messages e "
            "JOIN chat_sessions s ON s.id = e.session_id "
            "WHERE e.message_index = $1 AND s.status <> 'closed'",
            await id_index(cipher, message_id))
        if row is None or row["contact"] is None:
            continue
        contact = await cipher.open_text(store.SESSIONS, "contact", row["id"], row["contact"])
        if contact.lower() == customer.lower():
            return Thread(row["id"], row["contact_index"])
    return None


async def record(conn: asyncpg.Connection, cipher: TenantCipher, headers: Headers, *,
                 session_id: uuid.UUID | None, direction: str, outcome: str) -> bool:
    """Store the mail's row; False when its Message-ID was stored before."""
    row_id = uuid.uuid4()
    sealed = await cipher.seal(TABLE, "headers", row_id, json.dumps(asdict(headers)))
    inserted = await conn.fetchval(
        "INSERT INTO email_messages (id, message_index, session_id, direction, outcome, "
        "headers) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (message_index) DO NOTHING "
        "RETURNING true", row_id, await id_index(cipher, headers.message_id), session_id,
        direction, outcome, sealed)
    return bool(inserted)


async def latest_inbound(conn: asyncpg.Connection, cipher: TenantCipher,
                         session_id: uuid.UUID) -> Headers | None:
    """The headers of the customer's latest mail in the conversation: what a reply answers."""
    row = await conn.fetchrow(
        "SELECT id, headers FROM email_messages WHERE session_id = $1 AND direction = 'in' "
        "ORDER BY created_at DESC LIMIT 1", session_id)
    if row is None:
        return None
    opened = json.loads(await cipher.open_text(TABLE, "headers", row["id"], row["headers"]))
    return Headers(**opened)

