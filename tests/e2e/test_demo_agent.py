"""What `make up` promises a newcomer: the agent worker it starts answers each demo tenant's
customers, in Romanian and in English, with the tenant's own prices."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
import yaml

from simptu.runtime.core.crypto import KeyRing
from simptu.runtime.core.events import EventProducer
from simptu.runtime.core.settings import CoreSettings
from simptu.runtime.core.tenancy import TenantNames
from tests.integration.agent.conftest import AgentTenant, Chat

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
DEMO = {(manifest := yaml.safe_load(path.read_text()))["metadata"]["name"]:
        manifest["spec"]["businessType"] for path in sorted(EXAMPLES.glob("*.yaml"))}
PRICES = {"dental-clinic": "Consultation", "gym": "Yoga", "hotel": "Double room"}


@pytest.mark.parametrize(("slug", "question", "words"), [
    *[(slug, "Bună ziua!", "Bună ziua!") for slug in DEMO],
    *[(slug, "How much does it cost?", "Our prices") for slug in DEMO],
])
async def test_the_local_agent_worker_answers_each_demo_tenant(
        slug: str, question: str, words: str, db: asyncpg.Pool, key_ring: KeyRing,
        producer: EventProducer, core_settings: CoreSettings) -> None:
    conversation = Chat(AgentTenant(TenantNames(slug), DEMO[slug]), db, producer, key_ring,
                        core_settings.kafka)
    await conversation.open()
    try:
        await conversation.say(question)
        answer = await conversation.answer()
    finally:
        await conversation.close()
    assert words in answer.text
    if question.startswith("How much"):
        assert PRICES[DEMO[slug]] in answer.text
