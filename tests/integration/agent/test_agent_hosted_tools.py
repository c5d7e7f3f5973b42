"""A hosted model acting with the agent's tools, against the stand-ins of both contracts
(OpenAI's chat completions with `tool_calls` and `tool` messages; Bedrock's ConverseStream
with `toolUse` and `toolResult` blocks): the graph runs on the tenant's data in memory, the
model is a script that reads what it was sent. A tool call and its result reach the model and
its answer streams to the customer; a booking the model asks for waits for the customer's yes;
without one nothing is booked; a tool that does not exist, or arguments that do not fit the
tool's schema, get an error result, not a crash."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from pydantic import SecretStr

from simptu.runtime.agent.graph import CONFIRM_FUNCTION, MAX_MODEL_CALLS, build_graph
from simptu.runtime.agent.intents import IntentClassifier
from simptu.runtime.agent.providers import ChatProvider, create_provider
from simptu.runtime.agent.templates import render
from simptu.runtime.agent.tools import TOOLS
from simptu.runtime.core.registry import TenantAgent
from tests.integration.agent.model_servers import PREFIX, Exchange, ModelServer, ToolCall
from tests.model import session_embedder
from tests.unit.agent import in_memory as shop

TEN, ELEVEN = shop.local(shop.WEDNESDAY, 10), shop.local(shop.WEDNESDAY, 11)


# Messages the script answers by calling a tool that only reads (or hands off).
READS: dict[str, tuple[str, dict[str, Any]]] = {
    "Când am programarea?": ("next_booking", {}),
    "Aveți parcare?": ("search_faq", {"question": "Aveți parcare?"}),
    "Vreau să vorbesc cu un om": ("hand_off", {})}


def receptionist(exchange: Exchange) -> str | list[ToolCall]:
    """The scripted model: one tool call for what the customer asks, then an answer made of
    the results."""
    consultation = exchange.service_id("Consultation")
    if "iar și iar" in exchange.text:  # a model that never stops calling
        return [ToolCall("find_free_times", {"service_id": consultation,
                                             "day": shop.WEDNESDAY.isoformat()})]
    if exchange.results:
        said = []
        for _, content, error in exchange.results:
            if error:
                said.append("error")
                continue
            result = json.loads(content)
            said.append(result.get("proposal") or ", ".join(result.get("free_times", []))
                        or content)
        return PREFIX + " | ".join(said)
    if "libere" in exchange.text:
        part = {"dimineață": "morning", "după-amiază": "afternoon"}
        when = next((part[word] for word in part if word in exchange.text), None)
        return [ToolCall("find_free_times", {"service_id": consultation,
                                             "day": shop.WEDNESDAY.isoformat(),
                                             **({"part_of_day": when} if when else {})})]
    if "programați" in exchange.text:
        return [ToolCall("book", {"service_id": consultation, "start": TEN.isoformat(),
                                  "name": "Ana Pop"})]
    if asked := READS.get(exchange.text):
        return [ToolCall(*asked)]
    if "mutați" in exchange.text:
        return [ToolCall("reschedule", {"start": ELEVEN.isoformat()})]
    if "anulați" in exchange.text:
        return [ToolCall("cancel", {})]
    if "greșit" in exchange.text:
        return [ToolCall("delete_all_bookings", {}),
                ToolCall("book", {"service_id": consultation, "start": "miercuri"}),
                ToolCall("book", {"service_id": str(uuid.UUID(int=7)),
                                  "start": TEN.isoformat()})]

    if "neterminat" in exchange.text:
        return [ToolCall("book", '{"start": mâine}')]
    return PREFIX + "Cu ce vă pot ajuta?"


def no_understanding(text: str) -> dict[str, Any]:
    raise AssertionError(f"a model acting with tools is not asked to classify {text!r}")


@dataclass
class Said:
    deltas: list[str]
    call: dict[str, Any] | None
    offer: dict[str, Any] | None = None  # a slot picker sent with the answer

    @property
    def text(self) -> str:
        return "".join(self.deltas)


@dataclass
class Conversation:
    """One conversation through the tool-calling graph, each turn a new event."""

    provider: ChatProvider
    repository: shop.MemoryRepository
    graph: Any = field(default_factory=lambda: build_graph(InMemorySaver(), tools=True))
    turns: int = 0

    async def say(self, text: str) -> Said:
        config: RunnableConfig = {"configurable": {"thread_id": "hosted"}}
        waiting = (await self.graph.aget_state(config)).interrupts
        return await self._run(Command(resume={"text": text}) if waiting
                               else {"inbound": {"text": text}}, config)

    async def confirm(self, confirmed: bool) -> Said:
        return await self._run(Command(resume={"confirmed": confirmed}),
                               {"configurable": {"thread_id": "hosted"}})

    async def _run(self, command: Any, config: RunnableConfig) -> Said:
        self.turns += 1
        ctx = shop.turn_context(self.repository, event_id=f"event-{self.turns}")
        ctx.provider = self.provider
        said = Said([], None)
        async for mode, chunk in self.graph.astream(command, config, context=ctx,
                                                    stream_mode=["custom", "updates"]):
            if mode == "custom" and "function_call" in chunk:
                said.offer = chunk["function_call"]
            elif mode == "custom":
                said.deltas.append(chunk["delta"])
            elif "__interrupt__" in chunk:
                said.call = chunk["__interrupt__"][0].value
        return said


def hosted_provider(kind: str, server: ModelServer) -> ChatProvider:
    agent = (TenantAgent(provider="openai", model="gpt-test", endpoint=f"{server.url}/v1",
                         credentials_secret="openai") if kind == "openai"
             else TenantAgent(provider="bedrock", region="eu-central-1", endpoint=server.url,
                              model="anthropic.claude-3-5-haiku-20241022-v1:0"))
    key = "sk-test" if kind == "openai" else "AKIDTESTTENANT:not-a-real-secret"
    return create_provider(agent, SecretStr(key), IntentClassifier(session_embedder().embed))


@pytest.fixture(params=["openai", "bedrock"])
async def model(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, ModelServer]]:
    async with ModelServer(no_understanding, receptionist).running() as server:
        yield request.param, server


@pytest.fixture
def clinic() -> shop.MemoryRepository:
    return shop.MemoryRepository(shop.CLINIC, slots=[
        shop.slot(shop.CONSULTATION, shop.DR_ANA, TEN),
        shop.slot(shop.CONSULTATION, shop.DR_ANA, ELEVEN)])


@pytest.fixture
def conversation(model: tuple[str, ModelServer],
                 clinic: shop.MemoryRepository) -> Conversation:
    return Conversation(hosted_provider(model[0], model[1]), clinic)


def offered(kind: str, request: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The tools a request offers, each name with its JSON schema."""
    if kind == "openai":
        return {tool["function"]["name"]: tool["function"]["parameters"]
                for tool in request["tools"]}
    return {tool["toolSpec"]["name"]: tool["toolSpec"]["inputSchema"]["json"]
            for tool in request["toolConfig"]["tools"]}


def results_sent(kind: str, request: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The tool results a request carries after the model's calls: (call id, text, status)."""
    if kind == "openai":
        return [(m["tool_call_id"], m["content"], "") for m in request["messages"]
                if m["role"] == "tool"]
    return [(block["toolResult"]["toolUseId"],
             "".join(part.get("text", json.dumps(part.get("json")))
                     for part in block["toolResult"]["content"]),
             block["toolResult"].get("status", ""))
            for m in request["messages"] for block in m["content"] if "toolResult" in block]


async def test_a_tool_call_and_its_result_reach_the_model_and_its_answer_streams(
        conversation: Conversation, model: tuple[str, ModelServer]) -> None:
    kind, server = model

    said = await conversation.say("Ce ore aveți libere miercuri la consultație?")

    assert said.text == PREFIX + "10:00, 11:00"
    assert len(said.deltas) > 1
    assert said.call is None
    first, second = server.requests
    schemas = offered(kind, first)
    assert set(schemas) == {tool.name for tool in TOOLS}
    # Generated from the booking engine's request models: their types, formats and limits.
    assert schemas["book"]["properties"]["service_id"]["format"] == "uuid"
    assert schemas["book"]["properties"]["start"]["format"] == "date-time"
    assert schemas["book"]["properties"]["nights"]["maximum"] == 60
    assert "customer_id" not in schemas["book"]["properties"]
    [(call_id, text, _)] = results_sent(kind, second)
    assert call_id == ("call_1" if kind == "openai" else "tooluse_1")
    assert json.loads(text) == {"day": shop.WEDNESDAY.isoformat(),
                                "free_times": ["10:00", "11:00"]}
    assert conversation.repository.bookings == {}


async def test_the_free_times_the_model_names_come_with_a_slot_picker(
        conversation: Conversation) -> None:
    said = await conversation.say("Ce ore aveți libere miercuri la consultație?")

    assert said.offer is not None
    assert said.offer["name"] == "choose_slot"
    slots = said.offer["arguments"]["slots"]
    assert [slot["time"] for slot in slots] == ["10:00", "11:00"]
    assert [slot["start"] for slot in slots] == [TEN.isoformat(), ELEVEN.isoformat()]
    proposal = await conversation.say("Vă rog să mă programați miercuri la 10, sunt Ana Pop")
    assert proposal.call is not None
    assert proposal.offer is None  # a proposal offers no times


async def test_free_times_are_found_in_the_part_of_the_day_asked_for_or_said_to_be_none(
        conversation: Conversation, model: tuple[str, ModelServer]) -> None:
    kind, server = model
    morning = await conversation.say("Ce ore aveți libere miercuri dimineață?")
    afternoon = await conversation.say("Și ce ore aveți libere miercuri după-amiază?")

    assert morning.text == PREFIX + "10:00, 11:00"
    [(_, text, _)] = results_sent(kind, server.requests[-1])
    assert json.loads(text) == {"day": shop.WEDNESDAY.isoformat(), "part_of_day": "afternoon",
                                "free_times": [], "free_at_other_times": ["10:00", "11:00"]}
    assert "free_at_other_times" in afternoon.text


async def test_a_booking_the_model_asks_for_is_made_only_after_the_customers_yes(
        conversation: Conversation, clinic: shop.MemoryRepository) -> None:
    proposal = await conversation.say("Vă rog să mă programați miercuri la 10, sunt Ana Pop")

    assert proposal.call is not None
    assert proposal.call["name"] == CONFIRM_FUNCTION
    assert proposal.call["arguments"]["action"] == "book"
    assert proposal.text.startswith(PREFIX)
    assert "Ana Pop" in proposal.text
    assert clinic.bookings == {}  # proposed, not booked

    done = await conversation.say("da")

    [booking] = clinic.bookings.values()
    assert (booking.service_id, booking.resource_id, booking.start) == (
        shop.CONSULTATION.id, shop.DR_ANA.id, TEN)
    assert clinic.customer_names[booking.customer_id] == ("Ana Pop", "ro")
    assert clinic.keys == ["agent:event-2"]
    assert done.text.startswith(PREFIX)
    assert done.call is None


async def test_the_tools_that_read_answer_the_model_from_the_tenants_data(
        conversation: Conversation, clinic: shop.MemoryRepository) -> None:
    mine = shop.booked(shop.CONSULTATION, shop.DR_ANA, shop.CUSTOMER, TEN)
    clinic.customer_id, clinic.bookings[mine.id] = shop.CUSTOMER, mine
    clinic.faq["Aveți parcare?"] = "Da, în curte."

    booking = await conversation.say("Când am programarea?")
    faq = await conversation.say("Aveți parcare?")
    person = await conversation.say("Vreau să vorbesc cu un om")

    assert json.loads(booking.text.removeprefix(PREFIX)) == {"next_booking": {
        "service": "Consultation", "when": "miercuri, 9 decembrie la 10:00"}}
    assert json.loads(faq.text.removeprefix(PREFIX)) == {"answer": "Da, în curte."}
    assert json.loads(person.text.removeprefix(PREFIX))["handed_off"] is True
    assert clinic.handed_off
    assert clinic.bookings == {mine.id: mine}


@pytest.mark.parametrize(("asked", "action"), [
    ("Vă rog să mă mutați la 11", "reschedule"), ("Vă rog să o anulați", "cancel")])
async def test_a_move_or_cancel_the_model_asks_for_waits_for_the_page_to_confirm(
        conversation: Conversation, clinic: shop.MemoryRepository, asked: str,
        action: str) -> None:
    mine = shop.booked(shop.CONSULTATION, shop.DR_ANA, shop.CUSTOMER, TEN)
    clinic.customer_id, clinic.bookings[mine.id] = shop.CUSTOMER, mine

    proposal = await conversation.say(asked)

    assert proposal.call is not None
    assert proposal.call["arguments"]["action"] == action
    assert clinic.bookings[mine.id] == mine
    await conversation.confirm(True)
    changed = clinic.bookings[mine.id]
    assert (changed.start, changed.status) == (
        (ELEVEN, "booked") if action == "reschedule" else (TEN, "cancelled"))


@pytest.mark.parametrize("answer", ["nu", "page: no", "a new question"])
async def test_a_declined_or_unanswered_booking_books_nothing(
        conversation: Conversation, clinic: shop.MemoryRepository, answer: str) -> None:
    proposal = await conversation.say("Vă rog să mă programați miercuri la 10, sunt Ana Pop")
    assert proposal.call is not None

    if answer == "page: no":
        said = await conversation.confirm(False)
    elif answer == "nu":
        said = await conversation.say("nu")
    else:  # not an answer to the proposal: it is dropped, and a later yes is just a word
        said = await conversation.say("Bună ziua")
        assert said.text == PREFIX + "Cu ce vă pot ajuta?"
        said = await conversation.say("da")

    assert said.call is None
    assert clinic.bookings == {}
    assert clinic.keys == []


async def test_an_unknown_tool_or_arguments_outside_the_schema_get_an_error_result(
        conversation: Conversation, model: tuple[str, ModelServer],
        clinic: shop.MemoryRepository) -> None:
    kind, server = model

    said = await conversation.say("Am greșit ceva?")

    assert said.text == PREFIX + "error | error | error"
    results = results_sent(kind, server.requests[-1])
    prefix = "call_" if kind == "openai" else "tooluse_"
    assert [call_id for call_id, _, _ in results] == [f"{prefix}{n}" for n in (1, 2, 3)]
    assert "delete_all_bookings is not a valid tool" in results[0][1]
    assert "start" in results[1][1]
    assert f"no service {uuid.UUID(int=7)}" in results[2][1]
    if kind == "bedrock":
        assert {status for _, _, status in results} == {"error"}
    assert clinic.bookings == {}


async def test_a_model_that_keeps_calling_tools_is_stopped_after_six_calls(
        conversation: Conversation, model: tuple[str, ModelServer]) -> None:
    said = await conversation.say("Caut iar și iar")

    assert len(model[1].requests) == MAX_MODEL_CALLS + 1  # and one to say "unknown"
    # Said by the model in its words (the stand-in's: the request's last message, which
    # Converse merges with the customer's before it).
    assert said.text.startswith(PREFIX)
    assert said.text.endswith(render("unknown", "ro", {}))
    assert said.call is None


async def test_arguments_that_are_not_json_get_an_error_result(
        clinic: shop.MemoryRepository) -> None:
    async with ModelServer(no_understanding, receptionist).running() as server:
        conversation = Conversation(hosted_provider("openai", server), clinic)

        said = await conversation.say("Un apel neterminat")

    [(call_id, text, _)] = results_sent("openai", server.requests[-1])
    assert call_id == "call_1"
    assert "not valid JSON" in text
    assert said.text == PREFIX + "error"
    assert clinic.bookings == {}
