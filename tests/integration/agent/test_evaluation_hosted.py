"""The hosted providers (`openai`, `bedrock`) scored on the evaluation's held-out conversations
through the graph of a model that calls tools, against their stand-ins. This scores the wire
contract, not a model: the stand-in's "model" is the local dialogue itself (a `Mirror`), run
beside the hosted graph on its own copy of the data, and what the dialogue proposes the model
asks for with the matching tool (book, reschedule, cancel, hand_off). A conversation succeeds
when the change reaches the tenant's data through the tool call, its result, the proposal, the
customer's yes (or no) and the graph's execute, as the local dialogue makes it. A real
endpoint's understanding is not measured here (no test may reach one)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import asyncpg
import pytest

from simptu.runtime.agent.evaluation import (
    CARRIED,
    DemoFaqs,
    Session,
    Split,
    evaluate_hosted,
)
from simptu.runtime.agent.intents import IntentClassifier
from simptu.runtime.agent.providers.local import LocalProvider
from simptu.runtime.agent.templates import render
from tests.integration.agent.model_servers import PREFIX, Exchange, ModelServer, ToolCall
from tests.integration.agent.test_agent_hosted_tools import hosted_provider, no_understanding
from tests.model import session_embedder

# Every conversation the local dialogue completes, its tool calls complete too (measured:
# held-out 14/14 carried conversations, both contracts).
FLOOR = 1.0
SPLIT: Split = "held_out"


class Mirror:
    """The stand-in's script for one conversation: the local dialogue's decision for each
    new customer message, said as a tool call (or as text)."""

    def __init__(self, conversation: Mapping[str, Any], faqs: DemoFaqs) -> None:
        local = LocalProvider(IntentClassifier(session_embedder().embed))
        self.shadow = Session(local, conversation, faqs)
        self.locale = conversation["lang"]

    async def act(self, exchange: Exchange) -> str | list[ToolCall]:
        if exchange.results:  # the tools answered: the model's answer ends the turn
            return PREFIX + " | ".join(content for _, content, _ in exchange.results)
        values = await self.shadow.say(exchange.text)
        reply, pending = values["reply"], values.get("pending")
        if pending is not None:
            if pending["action"] == "book":
                return [ToolCall("book", {"service_id": pending["service_id"],
                                          "start": pending["start"],
                                          "nights": pending["nights"],
                                          "name": pending["name"]})]
            if pending["action"] == "reschedule":
                return [ToolCall("reschedule", {"start": pending["start"],
                                                "nights": pending["nights"]})]
            return [ToolCall("cancel", {})]
        if reply["key"] == "handoff":
            return [ToolCall("hand_off", {})]
        return PREFIX + render(reply["key"], self.locale, reply["params"])


@pytest.fixture(params=["openai", "bedrock"], scope="module")
async def model(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, ModelServer]]:
    async with ModelServer(no_understanding).running() as server:
        yield request.param, server


async def test_the_hosted_providers_carry_the_held_out_conversations_through_their_tools(
        model: tuple[str, ModelServer], db: asyncpg.Pool) -> None:
    kind, server = model
    embedder = session_embedder()
    faqs = DemoFaqs.of_examples(db, embedder)
    provider = hosted_provider(kind, server)
    def mirror(conversation: Mapping[str, Any]) -> None:
        server.act = Mirror(conversation, faqs).act

    report = await evaluate_hosted(SPLIT, provider, faqs, starting=mirror)
    carried = [conversation for conversation, _, _ in report.conversations]
    assert {c["outcome"]["reply"] for c in carried} == CARRIED  # each kind is scored
    for conversation, ok, said in report.conversations:
        if not ok:
            print(json.dumps({"kind": kind, "turns": conversation["turns"], "said": said}))
    assert report.task_success() >= FLOOR
    # the model was asked through the tool-calling contract (a reply after a change is
    # phrased by a request without tools)
    assert sum("tools" in request or "toolConfig" in request
               for request in server.requests) >= len(carried)
