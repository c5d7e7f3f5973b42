"""The conversation state LangGraph checkpoints, and what one turn hands the graph's nodes.

Every text-bearing channel holds a dict or a list: the Postgres saver stores those through the
(sealing) serializer, while plain strings and numbers would be stored inline in clear JSON."""

from __future__ import annotations

import datetime as dt
import operator
import uuid
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict
from zoneinfo import ZoneInfo

import asyncpg

from simptu.runtime.agent.actions import Catalogue
from simptu.runtime.agent.business import BusinessProfile
from simptu.runtime.agent.language import Locale
from simptu.runtime.agent.providers.base import ChatProvider, ProviderContext
from simptu.runtime.core.crypto import TenantCipher
from simptu.runtime.core.embeddings import Embedder
from simptu.runtime.core.registry import TenantRecord

# How much of the conversation the state keeps (what a hosted model is shown).
TRANSCRIPT_TURNS = 20


def keep_recent(old: list[dict[str, str]], new: list[dict[str, str]]) -> list[dict[str, str]]:
    return (old + new)[-TRANSCRIPT_TURNS:]


class ConversationState(TypedDict, total=False):
    # This turn's customer text: {"text": ...}.
    inbound: dict[str, str]
    locale: Locale
    # What the provider understood: {"intent": ..., "slots": {...}}.
    understanding: dict[str, Any]
    # A booking being arranged over several messages: action, service, date, time, nights, name.
    booking: dict[str, Any]
    # A change waiting for the customer's yes: the function call shown to the page.
    pending: dict[str, Any] | None
    # The answer the dialogue settled on: {"key": template, "params": {...}}.
    reply: dict[str, Any]
    transcript: Annotated[list[dict[str, str]], keep_recent]
    # Bookings made in this conversation: [{"id": ..., "action": ...}].
    done: Annotated[list[dict[str, str]], operator.add]


@dataclass
class TurnContext:
    """One turn's runtime (not checkpointed): the unit of work and what it acts for."""

    conn: asyncpg.Connection
    cipher: TenantCipher
    tenant: TenantRecord
    session: asyncpg.Record
    event_id: str
    provider: ChatProvider
    business: BusinessProfile
    catalogue: Catalogue
    tz: ZoneInfo
    now: dt.datetime
    embedder: Embedder | None = None  # for knowledge-base searches

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(self.tz).date()

    def provider_context(self, transcript: list[dict[str, str]]) -> ProviderContext:
        return ProviderContext(
            business=self.business, display_name=self.tenant.display_name or self.tenant.slug,
            today=self.today, transcript=transcript,
            vocabulary=self.business.vocabulary([s.name for s in self.catalogue.services]))

    def stable_id(self, purpose: str) -> uuid.UUID:
        """An id that is the same every time this event is handled (a redelivery replays the
        turn with the same reply, call and customer ids)."""
        return uuid.uuid5(uuid.NAMESPACE_URL,
                          f"simptu:{self.tenant.slug}:{self.event_id}:{purpose}")
