"""A turn that runs again after its first attempt failed resumes the question it answered.

Postgres lost while the page's confirmation is being handled: the attempt stored the answer
(LangGraph's resume write) on the waiting checkpoint, and the booking made meanwhile rolled
back with the turn's unit of work, but the step's next checkpoint was never written. The
retry must find the proposal still waiting, and make the booking (issue 22: the fault suite
saw such confirmations answered "nothing changed" and their bookings never made)."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any, cast

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from simptu.runtime.agent.business import HOTEL
from simptu.runtime.agent.catalogue import Catalogue
from simptu.runtime.agent.graph import build_graph
from simptu.runtime.agent.tenants import ServedTenant
from simptu.runtime.agent.turn import TurnInput, _command, _unfinished_resume
from simptu.runtime.core.chat import conversation as contract
from tests.unit.agent.in_memory import MemoryRepository, turn_context
from tests.unit.agent.test_checkpoint_shapes import OLD_DOUBLE, OLD_ROOM, old_checkpoints


class PostgresLost(Exception):
    pass


class LosesPostgres(InMemorySaver):
    """The fixture's checkpoints; with `lost`, writing a checkpoint fails (pending writes,
    stored first, are kept, as they were on the Postgres before it died)."""

    def __init__(self) -> None:
        super().__init__()
        old = old_checkpoints()
        self.storage, self.writes, self.blobs = old.storage, old.writes, old.blobs
        self.lost = False

    async def aput(self, *args: Any, **kwargs: Any) -> RunnableConfig:
        if self.lost:
            raise PostgresLost
        return await super().aput(*args, **kwargs)


def confirmation(call_id: str) -> TurnInput:
    result = contract.FunctionResult.model_validate({
        "session_id": str(uuid.uuid4()), "call_id": call_id, "result": {"confirmed": True}})
    return TurnInput(result.session_id, result=result)


async def test_a_confirmation_whose_first_attempt_died_mid_step_is_booked_on_retry() -> None:
    saver = LosesPostgres()
    graph = build_graph(saver)
    thread: RunnableConfig = {"configurable": {"thread_id": "stay"}}
    [waiting] = (await graph.aget_state(thread)).interrupts
    saver.lost = True
    with pytest.raises(PostgresLost):  # its booking rolled back with the unit of work
        await graph.ainvoke(Command(resume={"confirmed": True}), thread, context=turn_context(
            MemoryRepository(Catalogue([OLD_DOUBLE], [OLD_ROOM])), HOTEL, "event-yes"))
    saver.lost = False
    assert (await graph.aget_state(thread)).interrupts == ()  # live: answered, by the attempt

    config = await _unfinished_resume(saver, {"configurable": {"thread_id": "stay"}})
    command = await _command(cast(ServedTenant, SimpleNamespace(graph=graph)), config,
                             confirmation(waiting.value["call_id"]))
    repository = MemoryRepository(Catalogue([OLD_DOUBLE], [OLD_ROOM]))
    await graph.ainvoke(command, config, context=turn_context(repository, HOTEL, "event-yes"))

    assert isinstance(command, Command)
    [stay] = repository.bookings.values()
    assert (stay.service_id, stay.resource_id) == (OLD_DOUBLE.id, OLD_ROOM.id)
    assert repository.keys == ["agent:event-yes"]
    state = await graph.aget_state(thread)
    assert state.values["reply"]["key"] == "booked"
    assert state.interrupts == ()


async def test_a_turn_with_no_unfinished_attempt_runs_on_the_latest_state() -> None:
    config = await _unfinished_resume(LosesPostgres(), {"configurable": {"thread_id": "stay"}})
    assert config == {"configurable": {"thread_id": "stay"}}
