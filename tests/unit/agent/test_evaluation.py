"""The evaluation set is well formed, and the local model's scores on its held-out part never
fall below what was last measured (floors only rise: raise them when a change does better)."""

from __future__ import annotations

import pytest

from simptu.runtime.agent.evaluation import SLOT_TYPES, Report, evaluate, load
from simptu.runtime.agent.intents import INTENTS
from simptu.runtime.core.bookings.demo import CATALOGUES
from tests.model import session_embedder

# Measured on the held-out part, rounded down (issue 24: 116/126 intents, slot F1 0.9795,
# 19/21 conversations).
FLOORS = {"intent_accuracy": 0.92, "slot_f1": 0.97, "task_success": 0.90}
LABELS = {"text", "lang", "intent", "unoffered", *SLOT_TYPES}


def test_the_set_has_enough_messages_and_conversations_of_every_kind() -> None:
    messages, conversations = [], []
    for split in ("tune", "held_out"):
        found = load(split)
        messages += found[0]
        conversations += found[1]
        assert {m["lang"] for m in found[0]} == {"ro", "en"}
        assert {m["business"] for m in found[0]} == set(CATALOGUES)
        assert {c["business"] for c in found[1]} == set(CATALOGUES)
    assert len(messages) >= 300
    assert len(conversations) >= 40
    for message in messages:
        assert message["intent"] in INTENTS, message
        assert set(message) - {"business"} <= LABELS, message
    for conversation in conversations:
        assert conversation["turns"], conversation
        assert conversation["outcome"]["reply"], conversation


@pytest.fixture(scope="module")
async def held_out() -> Report:
    return await evaluate("held_out", session_embedder().embed)


async def test_the_local_model_understands_the_held_out_messages(held_out: Report) -> None:
    assert held_out.intent_accuracy() >= FLOORS["intent_accuracy"]
    assert held_out.slot_f1() >= FLOORS["slot_f1"]


async def test_the_local_model_completes_the_held_out_conversations(held_out: Report) -> None:
    assert held_out.task_success() >= FLOORS["task_success"]

