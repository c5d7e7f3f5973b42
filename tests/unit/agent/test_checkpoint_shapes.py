"""Checkpointed state is a contract: conversations checkpointed by older code still load and
finish after the state's shape changed. The fixture holds two conversations waiting for a
yes, written at commit 390a5d4 (before issue 15 typed the state and gave every pending change
one shape): a cancel whose pending change held only its booking, and a hotel stay."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from simptu.runtime.agent.business import GYM, HOTEL
from simptu.runtime.agent.catalogue import Catalogue
from simptu.runtime.agent.graph import CONFIRM_FUNCTION, build_graph
from simptu.runtime.agent.state import ConversationState, PendingChange, pending_change
from simptu.runtime.core.bookings.models import Resource, Service
from tests.unit.agent.in_memory import (
    CUSTOMER,
    DOUBLE,
    ROOM_101,
    MemoryRepository,
    booked,
    local,
    turn_context,
)

FIXTURE = Path(__file__).parent / "fixtures" / "checkpoints_390a5d4.json"
OLD_CANCEL = uuid.UUID("0b9f5a8e-2222-4222-8222-000000000002")
# The hotel's catalogue under the ids the old stay proposal names.
OLD_DOUBLE = DOUBLE.model_copy(update={"id": uuid.UUID("5d4e3f2a-4444-4444-8444-000000000004")})
YOGA = Service(id=uuid.UUID(int=4), name="Yoga", duration_minutes=60, price=Decimal("50"),
               currency="RON")
STUDIO = Resource(id=uuid.UUID(int=31), name="Studio", kind="class", capacity=12,
                  service_ids=[YOGA.id])
OLD_ROOM = ROOM_101.model_copy(update={"id": uuid.UUID("6e5f4a3b-5555-4555-8555-000000000005"),
                                       "service_ids": [OLD_DOUBLE.id]})


def _typed(stored: list[str]) -> tuple[str, bytes]:
    return stored[0], base64.b64decode(stored[1])


def old_checkpoints() -> InMemorySaver:
    """A saver holding the fixture's checkpoints, byte for byte as they were written."""
    stored: dict[str, Any] = json.loads(FIXTURE.read_text())
    saver = InMemorySaver()
    for row in stored["storage"]:
        saver.storage[row["thread_id"]][row["checkpoint_ns"]][row["checkpoint_id"]] = (
            _typed(row["checkpoint"]), _typed(row["metadata"]), row["parent_checkpoint_id"])
    writes: dict[tuple[str, str, str], dict[tuple[str, int], Any]] = defaultdict(dict)
    for row in stored["writes"]:
        writes[(row["thread_id"], row["checkpoint_ns"], row["checkpoint_id"])][
            (row["task_id"], row["idx"])] = (row["task_id"], row["channel"], _typed(row["value"]),
                                             row["task_path"])
    saver.writes.update(writes)
    for row in stored["blobs"]:
        saver.blobs[(row["thread_id"], row["checkpoint_ns"], row["channel"],
                     row["version"])] = _typed(row["value"])
    return saver


def thread(name: str) -> RunnableConfig:
    return {"configurable": {"thread_id": name}}


async def test_an_old_conversation_still_waits_for_its_yes_in_todays_shape() -> None:
    graph = build_graph(old_checkpoints())
    snapshot = await graph.aget_state(thread("cancel"))
    assert snapshot.next == ("confirm",)
    [waiting] = snapshot.interrupts
    assert waiting.value["name"] == CONFIRM_FUNCTION
    assert waiting.value["arguments"]["action"] == "cancel"
    assert pending_change(cast(ConversationState, snapshot.values)) == PendingChange(
        action="cancel", call_id=waiting.value["call_id"], params={
            "noun": "rezervarea", "service": "Yoga", "when": "miercuri, 9 decembrie, la 18:00"},
        booking_id=str(OLD_CANCEL), service_id=None, resource_id=None, start=None, nights=1,
        name=None)


async def test_an_old_cancel_is_made_when_the_customer_says_yes() -> None:
    graph = build_graph(old_checkpoints())
    yoga = booked(YOGA, STUDIO, CUSTOMER, local(dt.date(2026, 12, 9), 18)).model_copy(
        update={"id": OLD_CANCEL})
    repository = MemoryRepository(Catalogue([YOGA], [STUDIO]), customer_id=CUSTOMER,
                                  bookings={yoga.id: yoga})
    await graph.ainvoke(Command(resume={"text": "da"}), thread("cancel"),
                        context=turn_context(repository, GYM, event_id="event-yes"))

    assert repository.bookings[OLD_CANCEL].status == "cancelled"
    assert repository.keys == ["agent:event-yes"]
    state = (await graph.aget_state(thread("cancel"))).values
    assert state["reply"] == {"key": "cancelled", "params": {
        "noun": "rezervarea", "service": "Yoga", "when": "miercuri, 9 decembrie la 18:00"}}
    assert state["pending"] is None
    assert state["done"] == [{"id": str(OLD_CANCEL), "action": "cancelled"}]
    assert [line["role"] for line in state["transcript"]] == ["customer", "agent", "agent"]


async def test_an_old_stay_is_booked_when_the_page_confirms_it() -> None:
    graph = build_graph(old_checkpoints())
    repository = MemoryRepository(Catalogue([OLD_DOUBLE], [OLD_ROOM]))
    await graph.ainvoke(Command(resume={"confirmed": True}), thread("stay"),
                        context=turn_context(repository, HOTEL, event_id="event-confirmed"))

    [stay] = repository.bookings.values()
    assert (stay.service_id, stay.resource_id) == (OLD_DOUBLE.id, OLD_ROOM.id)
    assert (stay.start, stay.end - stay.start) == (
        dt.datetime(2026, 12, 12, 12, tzinfo=dt.UTC), dt.timedelta(days=3))
    assert repository.customer_names[stay.customer_id] == ("Ana Pop", "en")
    state = (await graph.aget_state(thread("stay"))).values
    assert state["reply"]["key"] == "booked"
    assert state["done"][-1] == {"id": str(stay.id), "action": "booked"}
    assert len(state["done"]) == 2  # the booking made before stays in the list
