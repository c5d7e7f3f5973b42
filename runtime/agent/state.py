"""The conversation state LangGraph checkpoints, and what one turn hands the graph's nodes.

Every text-bearing channel holds a dict or a list: the Postgres saver stores those through the
(sealing) serializer, while plain strings and numbers would be stored inline in clear JSON.
Channel values are plain dicts in the checkpoint (TypedDicts, no classes to import when one is
loaded), so a checkpointed state is a contract: a change of shape is read by `pending_change`
and friends from what older code wrote (tests/unit/agent/test_checkpoint_shapes.py). The one
exception, `messages`, holds LangChain's messages (their own serialised contract), and only
for the turn a hosted model acts in."""

from __future__ import annotations

import datetime as dt
import operator
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NotRequired, TypedDict
from zoneinfo import ZoneInfo

from langchain_core.messages import BaseMessage
from langgraph.graph.message import add_messages

from simptu.runtime.agent.business import BusinessProfile
from simptu.runtime.agent.catalogue import Catalogue
from simptu.runtime.agent.providers.base import (
    ChatProvider,
    ProviderContext,
    TranscriptLine,
    Understanding,
)
from simptu.runtime.agent.repository import AgentRepository
from simptu.runtime.core.language import Locale
from simptu.runtime.core.registry import TenantRecord

# How much of the conversation the state keeps (what a hosted model is shown).
TRANSCRIPT_TURNS = 20

ChangeAction = Literal["book", "reschedule", "cancel"]
# Template parameters: what a reply or a proposal says.
Params = dict[str, str | int]


class OfferedSlot(TypedDict):
    """One time a reply offered, as the page's slot picker shows it."""

    start: str  # ISO datetime with offset
    time: str  # HH:MM, tenant-local, as the reply says it
    label: str  # the day and time in the conversation's language


class OfferedSlots(TypedDict):
    """The times the last reply offered, sent to a web chat as a `choose_slot` call."""

    call_id: str
    slots: list[OfferedSlot]


class Inbound(TypedDict):
    text: str
    # The slot the page picked from the offered ones (`text` is then its time).
    picked: NotRequired[OfferedSlot]


class BookingFlow(TypedDict, total=False):
    """A booking being arranged over several messages: what the customer named so far."""

    action: ChangeAction
    name: str | None
    service: str  # a catalogue name
    date: str  # ISO date; a stay's check-in
    time: str  # ISO time, tenant-local
    nights: int
    part_of_day: str  # morning, afternoon or evening: the times offered are in it


class Reply(TypedDict):
    key: str  # a template of templates.py
    params: Params


class PendingChange(TypedDict):
    """A change waiting for the customer's yes, the same shape for all three actions; what the
    page is shown (the `confirm_booking` call) is `action` and `params`."""

    action: ChangeAction
    call_id: str
    params: Params
    booking_id: str | None  # the booking moved or cancelled; None for a new one
    # Where and when the booking will be; for a cancel, where and when it was.
    service_id: str | None
    resource_id: str | None
    start: str | None  # ISO datetime with offset
    nights: int  # 1 for an appointment
    name: str | None  # a guest's name, for their first booking


class DoneChange(TypedDict):
    id: str  # the booking's id
    action: Literal["booked", "rescheduled", "cancelled"]


def keep_recent(old: list[TranscriptLine], new: list[TranscriptLine]) -> list[TranscriptLine]:
    return (old + new)[-TRANSCRIPT_TURNS:]


class ConversationState(TypedDict, total=False):
    # This turn's customer text.
    inbound: Inbound
    locale: Locale
    # What the provider understood.
    understanding: Understanding
    booking: BookingFlow
    pending: PendingChange | None
    # The answer the dialogue settled on.
    reply: Reply
    # The times that answer offered (a web chat's slot picker); None when it offered none.
    offered: OfferedSlots | None
    transcript: Annotated[list[TranscriptLine], keep_recent]
    # Bookings made in this conversation.
    done: Annotated[list[DoneChange], operator.add]
    # A hosted model's tool calls and their results in this turn (LangChain messages, what
    # `ToolNode` reads); emptied when the next message arrives.
    messages: Annotated[list[BaseMessage], add_messages]


def pending_change(state: ConversationState) -> PendingChange | None:
    """The change waiting for a yes, in today's shape whatever code checkpointed it: before
    issue 15 a proposed cancel held only action, call_id, booking_id and params."""
    raw: Mapping[str, Any] | None = state.get("pending")
    if not raw:
        return None
    return PendingChange(
        action=raw["action"], call_id=raw["call_id"], params=dict(raw.get("params") or {}),
        booking_id=raw.get("booking_id"), service_id=raw.get("service_id"),
        resource_id=raw.get("resource_id"), start=raw.get("start"),
        nights=int(raw.get("nights") or 1), name=raw.get("name"))


@dataclass
class TurnContext:
    """One turn's runtime (not checkpointed): what it acts for, and the repository that reads
    and changes the tenant's data inside the turn's unit of work."""

    tenant: TenantRecord
    session_locale: Locale  # what the conversation began in, before the customer wrote
    event_id: str
    provider: ChatProvider
    business: BusinessProfile
    catalogue: Catalogue
    tz: ZoneInfo
    now: dt.datetime
    repository: AgentRepository
    channel: str = "web"  # the session's: a web chat is sent function calls it can show

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(self.tz).date()

    def provider_context(self, transcript: list[TranscriptLine]) -> ProviderContext:
        return ProviderContext(
            business=self.business, display_name=self.tenant.display_name or self.tenant.slug,
            today=self.today, transcript=transcript,
            vocabulary=self.catalogue.vocabulary(self.business.synonyms))

    def stable_id(self, purpose: str) -> uuid.UUID:
        """An id that is the same every time this event is handled (a redelivery replays the
        turn with the same reply, call and customer ids)."""
        return uuid.uuid5(uuid.NAMESPACE_URL,
                          f"simptu:{self.tenant.slug}:{self.event_id}:{purpose}")
