"""Hosted chat models through LangChain (`ChatOpenAI`, `ChatBedrockConverse`): in a
conversation the model acts with the agent's tools (tools.py, run by the graph's `ToolNode`)
and says the answers the graph settles on (a confirmed change) in its own words; `understand`
reads one message with a forced tool call that returns intent and slots (the evaluation's
measure). The booking logic stays the agent's own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
)
from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

from simptu.runtime.agent.intents import INTENTS, Intent
from simptu.runtime.agent.providers.base import ProviderContext, TranscriptLine, Understanding
from simptu.runtime.agent.providers.local import slots_as_json
from simptu.runtime.core.language import Locale

LANGUAGES = {"ro": "Romanian", "en": "English"}
HISTORY = 10  # messages of the transcript a hosted model sees


class UnderstandMessage(BaseModel):
    """Record what the customer's last message asks for and names."""

    intent: str = Field(description="one of: " + ", ".join(INTENTS))
    service: str | None = Field(None, description="the catalogue service it names, exactly")
    date: str | None = Field(None, description="the day it names, YYYY-MM-DD")
    time: str | None = Field(None, description="the time of day it names, HH:MM")
    nights: int | None = Field(None, description="how many nights (hotels)")
    name: str | None = Field(None, description="the customer's name, if they give it")


def history(transcript: Sequence[TranscriptLine]) -> list[BaseMessage]:
    """The last turns of the conversation as a chat model's messages."""
    return [HumanMessage(turn["text"]) if turn["role"] == "customer" else AIMessage(turn["text"])
            for turn in transcript[-HISTORY:]]


class HostedProvider:
    slow = True

    def __init__(self, name: str, model: BaseChatModel) -> None:
        self.name = name
        self.model = model

    async def understand(self, text: str, locale: Locale,
                         context: ProviderContext) -> Understanding:
        system = SystemMessage(
            f"{context.business.instructions} The business is {context.display_name}. "
            f"Today is {context.today.isoformat()}. Services: {', '.join(context.vocabulary)}. "
            "Call UnderstandMessage for the customer's last message.")
        bound = self.model.bind_tools([UnderstandMessage], tool_choice="UnderstandMessage")
        answer = await bound.ainvoke([system, *history(context.transcript), HumanMessage(text)])
        calls = getattr(answer, "tool_calls", None) or []
        if not calls:  # a model that answers in prose: fall back to the patterns
            return {"intent": "question", "slots": slots_as_json(text, context)}
        return _understanding(calls[0]["args"], text, context)

    async def phrase(self, text: str, locale: Locale,
                     context: ProviderContext) -> AsyncIterator[str]:
        messages = [SystemMessage(
            f"{context.business.instructions} The business is {context.display_name}. "
            f"Say the following answer to the customer in {LANGUAGES[locale]}, in your own "
            "words, briefly, keeping every fact, name, date, time and price exactly."),
            *history(context.transcript), HumanMessage(text)]
        async for chunk in self.model.astream(messages):
            # OpenAI's chunks carry a string, Converse's a list of content blocks.
            if chunk.text:
                yield chunk.text


    async def act(self, messages: Sequence[BaseMessage],
                  tools: Sequence[BaseTool]) -> AsyncIterator[AIMessageChunk]:
        async for chunk in self.model.bind_tools(tools).astream(list(messages)):
            assert isinstance(chunk, AIMessageChunk)
            yield chunk


def _understanding(args: dict[str, Any], text: str, context: ProviderContext) -> Understanding:
    """The model's reading, checked: an unknown intent or service is dropped, and what the
    model missed the patterns may still find."""
    intent: Intent = args.get("intent") if args.get("intent") in INTENTS else "question"  # type: ignore[assignment]
    slots = slots_as_json(text, context)
    for key in ("date", "time", "nights", "name"):
        if args.get(key) not in (None, ""):
            slots[key] = args[key]
    if args.get("service") in context.vocabulary:
        slots["service"] = args["service"]
    return {"intent": intent, "slots": slots}
