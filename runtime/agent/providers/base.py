"""The interface every model provider implements: understand a message (intent and what it
names), and phrase an answer the dialogue settled on, as a stream of text pieces."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NotRequired, Protocol, TypedDict, runtime_checkable

from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.tools import BaseTool

from simptu.runtime.agent.business import BusinessProfile
from simptu.runtime.agent.intents import Intent
from simptu.runtime.core.language import Locale


class Understanding(TypedDict):
    # "question" when no rule recognised the message: the FAQ is searched first, and `guess`
    # (the model's nearest intent) is what the agent does when the FAQ has no answer.
    intent: Intent
    guess: NotRequired[Intent]
    # Slot values as JSON scalars: service (catalogue name), date and time (ISO), nights, name.
    slots: dict[str, str | int]


class TranscriptLine(TypedDict):
    role: Literal["customer", "agent"]
    text: str


@dataclass(frozen=True)
class ProviderContext:
    """What a provider knows about the conversation it works on."""

    business: BusinessProfile
    display_name: str
    today: dt.date
    vocabulary: Mapping[str, tuple[str, ...]]
    transcript: list[TranscriptLine] = field(default_factory=list)


class ChatProvider(Protocol):
    name: str
    # Whether the first piece of a reply takes long enough to show the customer "typing".
    slow: bool

    async def understand(self, text: str, locale: Locale,
                         context: ProviderContext) -> Understanding: ...

    def phrase(self, text: str, locale: Locale,
               context: ProviderContext) -> AsyncIterator[str]:
        """Stream `text` (the answer the dialogue settled on, in `locale`) as the customer sees
        it: the local model streams it as it is, a hosted model in its own words."""
        ...


@runtime_checkable
class ToolCallingProvider(ChatProvider, Protocol):
    """A model that acts on its own: it calls the agent's tools (tools.py) and answers."""

    def act(self, messages: Sequence[BaseMessage],
            tools: Sequence[BaseTool]) -> AsyncIterator[AIMessageChunk]:
        """Stream the model's next message: text for the customer, or tool calls."""
        ...
