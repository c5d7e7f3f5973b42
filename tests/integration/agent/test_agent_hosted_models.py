"""Tenants whose agent runs on a hosted model: `openai` (any OpenAI-compatible server, here a
local one following the chat-completions contract with streaming and tool calls) through the
worker, with the API key from the environment its Deployment fills from the tenant's Secret:
the model books with the agent's `book` tool, on the tenant's data, after the customer's yes;
and `bedrock` (a local Converse endpoint), signed with the tenant's AWS keys.
test_agent_hosted_tools.py holds the tool-calling contract of both."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
import redis.asyncio as aioredis
from pydantic import SecretStr

from simptu.runtime.agent.business import DENTAL
from simptu.runtime.agent.intents import IntentClassifier
from simptu.runtime.agent.providers import ProviderContext, create_provider
from simptu.runtime.core.chat import conversation as contract
from simptu.runtime.core.crypto import OpenBaoTransit
from simptu.runtime.core.registry import TenantAgent
from simptu.runtime.core.settings import CoreSettings
from tests.integration.agent.conftest import (
    TIMEZONE,
    AgentFactory,
    AgentTenant,
    next_weekday,
    provision,
    unprovision,
)
from tests.integration.agent.model_servers import PREFIX, Exchange, ModelServer, ToolCall
from tests.model import session_embedder

API_KEY = "sk-test-not-a-real-key"


def scripted_understanding(text: str) -> dict[str, Any]:
    if "consultație" in text:
        return {"intent": "book", "service": "Consultation",
                "date": next_weekday(2).isoformat(), "time": "11:00", "name": "Ana Pop"}
    return {"intent": "greeting"}


def scripted_booking(exchange: Exchange) -> str | list[ToolCall]:
    """Books a consultation on Tuesday at 11 when asked, with the id the prompt lists."""
    if exchange.results:
        proposal: str = json.loads(exchange.results[-1][1]).get("proposal", "?")
        return PREFIX + proposal
    if "consultație" in exchange.text:
        start = dt.datetime.combine(next_weekday(2), dt.time(11), ZoneInfo(TIMEZONE))
        return [ToolCall("book", {"service_id": exchange.service_id("Consultation"),
                                  "start": start.isoformat(), "name": "Ana Pop"})]
    return PREFIX + "Bună ziua, cu ce vă pot ajuta?"


@pytest.fixture
async def model_server() -> AsyncIterator[ModelServer]:
    async with ModelServer(scripted_understanding, scripted_booking).running() as server:
        yield server


@pytest.fixture
async def openai_tenant(db: asyncpg.Pool, redis_client: aioredis.Redis,
                        core_settings: CoreSettings, unique: str,
                        model_server: ModelServer) -> AsyncIterator[AgentTenant]:
    transit = OpenBaoTransit.from_settings(core_settings)
    agent = TenantAgent(provider="openai", model="gpt-test", endpoint=f"{model_server.url}/v1",
                        credentials_secret="openai")
    async with db.acquire() as conn:
        tenant = await provision(conn, redis_client, transit, core_settings.kafka,
                                 f"{unique}-dental", "dental-clinic", agent)
    yield tenant
    async with db.acquire() as conn:
        await unprovision(conn, redis_client, transit, core_settings.kafka, tenant)


async def test_an_openai_tenant_books_by_the_models_tool_call_after_the_customers_yes(
        openai_tenant: AgentTenant, model_server: ModelServer, agent_process: AgentFactory,
        chat: Any, unique: str) -> None:
    worker = agent_process(["--tenant", openai_tenant.slug],
                           {"SIMPTU_AGENT_GROUP_ID": f"{unique}-agent",
                            "SIMPTU_MODEL_CREDENTIALS": API_KEY})
    await worker.start()
    conversation = await chat(openai_tenant)

    await conversation.say("Bună ziua")
    hello = await conversation.answer()
    assert hello.text.startswith(PREFIX)  # phrased by the model, streamed word by word
    assert len(hello.deltas) > 3
    assert any(e.type == contract.TYPING for e in conversation.seen)
    await conversation.say("Vreau o consultație marți la 11, sunt Ana Pop")
    proposal = await conversation.answer()
    assert proposal.call is not None
    assert proposal.text.startswith(PREFIX)
    assert await conversation.bookings() == []  # proposed by the tool, not booked
    await conversation.confirm(proposal.call)
    await conversation.answer()

    [booking] = await conversation.bookings()
    assert booking["status"] == "booked"
    assert booking["start_at"].astimezone(ZoneInfo(TIMEZONE)) == dt.datetime.combine(
        next_weekday(2), dt.time(11), ZoneInfo(TIMEZONE))
    assert {h["authorization"] for h in model_server.headers} == {f"Bearer {API_KEY}"}
    [call] = [m for r in model_server.requests for m in r["messages"]
              if m["role"] == "assistant" and m.get("tool_calls")][:1]
    assert call["tool_calls"][0]["function"]["name"] == "book"
    assert all(r["stream"] for r in model_server.requests)


async def test_a_bedrock_model_is_asked_through_converse_and_streams_signed_with_tenant_keys(
        model_server: ModelServer) -> None:
    provider = create_provider(
        TenantAgent(provider="bedrock", model="anthropic.claude-3-5-haiku-20241022-v1:0",
                    region="eu-central-1",
                    endpoint=model_server.url),
        SecretStr("AKIDTESTTENANT:not-a-real-secret"),
        IntentClassifier(session_embedder().embed))
    context = ProviderContext(business=DENTAL, display_name="Test", today=dt.date(2026, 11, 23),
                              vocabulary=DENTAL.vocabulary(["Consultation"]))

    understood = await provider.understand("Vreau o consultație", "ro", context)
    said = [piece async for piece in provider.phrase("Gata, vă așteptăm.", "ro", context)]

    assert understood["intent"] == "book"
    assert understood["slots"]["service"] == "Consultation"
    assert "".join(said) == PREFIX + "Gata, vă așteptăm."
    assert len(said) > 1  # streamed through ConverseStream, a piece per word
    assert [path.rsplit("/", 1)[-1] for path in model_server.paths] == [
        "converse", "converse-stream"]
    assert all(h["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDTESTTENANT/")
               for h in model_server.headers)


def test_a_hosted_model_without_credentials_is_refused() -> None:
    with pytest.raises(RuntimeError, match="needs credentials"):
        create_provider(TenantAgent(provider="openai", credentials_secret="openai"), None,
                        IntentClassifier(session_embedder().embed))
