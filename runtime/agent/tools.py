"""The business operations a hosted model calls as LangGraph tools (run by `ToolNode`): free
times, the customer's next booking, the FAQ, a hand-off, and book, reschedule and cancel.

Their argument schemas are generated from the core use cases' request models
(`bookings.BookingRequest`, `RescheduleRequest`): the same types, limits and formats, without
the fields the conversation decides (whose booking, which one is moved or cancelled).
The change tools plan through the dialogue (`dialogue.plan`) and only propose: the change is
made by the graph's `execute` after the customer's yes, as for the local model."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool, InjectedToolArg, StructuredTool, ToolException
from langgraph.prebuilt import ToolRuntime
from langgraph.prebuilt.tool_node import ToolInvocationError
from langgraph.types import Command
from pydantic import BaseModel, Field, create_model
from pydantic.fields import FieldInfo

from simptu.runtime.agent.catalogue import opening_hours, say_price
from simptu.runtime.agent.dialogue import faq_or_guess, in_part_of_day, plan
from simptu.runtime.agent.providers.hosted import LANGUAGES
from simptu.runtime.agent.slots import find_asked_for
from simptu.runtime.agent.state import BookingFlow, ConversationState, TurnContext
from simptu.runtime.agent.templates import render, say_when
from simptu.runtime.core.bookings.models import (
    BookingRequest,
    RescheduleRequest,
    Service,
)
from simptu.runtime.core.language import Locale

FREE_TIMES_LISTED = 24
Runtime = ToolRuntime[TurnContext, ConversationState]


def arguments_of(tool: str, doc: str, request: type[BaseModel],
                 described: Mapping[str, str], /, **extra: Any) -> type[BaseModel]:
    """A tool's arguments: the fields `described` of the use case's `request` model (their
    types and limits as they are, with a description for the model) and `extra` ones."""
    fields: dict[str, Any] = {
        field: (request.model_fields[field].annotation,
                FieldInfo.merge_field_infos(request.model_fields[field], description=text))
        for field, text in described.items()}
    return create_model(tool, __doc__=doc, **fields, **extra)


START = ("when it starts, an ISO datetime with the business's UTC offset; for a room, the "
         "check-in day (its time is the check-in time)")
NIGHTS = "for a room: how many nights"
FreeTimesArguments = arguments_of(
    "find_free_times", "The free times of a service on a day (for a room: whether one is free "
    "for the stay).", BookingRequest, {"service_id": "the service's id, from the list",
                                       "nights": NIGHTS},
    day=(dt.date, Field(description="the day, YYYY-MM-DD")),
    part_of_day=(Literal["morning", "afternoon", "evening"] | None, Field(
        None, description="only the times in this part of the day: morning (before 12:00), "
        "afternoon (12:00-17:00), evening (from 17:00)")))
BookArguments = arguments_of(
    "book", "Propose a booking to the customer; it is made only when they confirm.",
    BookingRequest, {"service_id": "the service's id, from the list", "start": START,
                     "nights": NIGHTS},
    name=(str | None, Field(None, description="the customer's name, for their first booking")))
RescheduleArguments = arguments_of(
    "reschedule", "Propose moving the customer's next booking; it moves only when they "
    "confirm.", RescheduleRequest, {"start": START, "nights": NIGHTS})
FaqArguments = create_model(
    "search_faq", __doc__="The business's own answer to a question (its FAQ).",
    question=(str, Field(description="the customer's question, in their words")))


class ToolRefusal(ToolException):
    """What the model asked cannot be: said to the model as the tool's error result."""


# What the model is told as an error result (with a tool that does not exist): arguments
# outside the schema, and refusals. Anything else fails the turn, which is retried.
TOOL_ERRORS = (ToolInvocationError, ToolRefusal)


def _service(ctx: TurnContext, arguments: Mapping[str, Any]) -> Service:
    service = ctx.catalogue.service(arguments["service_id"])
    if service is None:
        raise ToolRefusal(f"no service {arguments['service_id']}: use an id from the list")
    return service


def _locale(runtime: Runtime) -> Locale:
    return runtime.state.get("locale", "ro")


def _result(**values: Any) -> str:
    """A tool's result for the model: JSON, its texts as the customer reads them."""
    return json.dumps(values, ensure_ascii=False)


async def find_free_times(runtime: Runtime, **arguments: Any) -> str:
    ctx = runtime.context
    service, day = _service(ctx, arguments), arguments["day"]
    if service.kind == "night":
        rooms = await ctx.repository.free_rooms(service, day, arguments["nights"], None)
        return _result(check_in=day.isoformat(), nights=arguments["nights"],
                       rooms_free=len(rooms))
    slots = await ctx.repository.free_slots(service, day, None)
    starts = sorted({slot.start.astimezone(ctx.tz) for slot in slots})
    part = arguments.get("part_of_day")
    times = [f"{start:%H:%M}" for start in starts if in_part_of_day(start, part or "")]
    if part and not times:  # nothing then: said so, with the rest of the day's times
        return _result(day=day.isoformat(), part_of_day=part, free_times=[],
                       free_at_other_times=[f"{start:%H:%M}" for start in starts]
                       [:FREE_TIMES_LISTED])
    return _result(day=day.isoformat(), free_times=times[:FREE_TIMES_LISTED])


async def next_booking(runtime: Runtime) -> str:
    ctx = runtime.context
    booking = await ctx.repository.next_booking()
    if booking is None:
        return _result(next_booking=None)
    service = ctx.catalogue.service(booking.service_id)
    return _result(next_booking={
        "service": ctx.catalogue.said(service, _locale(runtime)) if service else "",
        "when": say_when(booking.start.astimezone(ctx.tz), _locale(runtime))})


async def search_faq(runtime: Runtime, question: str) -> str:
    asked_for = find_asked_for(question)  # "do you have X?": only an entry naming X
    _, answer = await faq_or_guess(runtime.context.repository, question,
                                   {"asked_for": asked_for} if asked_for else {}, None,
                                   _locale(runtime))
    return _result(answer=answer)


async def hand_off(runtime: Runtime) -> str:
    await runtime.context.repository.hand_off()
    return _result(handed_off=True, say=render("handoff", _locale(runtime), {}))


async def book(runtime: Runtime, **arguments: Any) -> Command[Any]:
    service = _service(runtime.context, arguments)
    flow = BookingFlow(action="book", service=service.name, nights=arguments["nights"],
                       name=arguments.get("name") or runtime.state.get("booking", {}).get("name"))
    return await _propose(runtime, _when(flow, runtime.context, arguments["start"], service))


async def reschedule(runtime: Runtime, **arguments: Any) -> Command[Any]:
    ctx = runtime.context
    moving = await ctx.repository.next_booking()
    service = ctx.catalogue.service(moving.service_id) if moving else None
    flow = BookingFlow(action="reschedule")
    if arguments.get("nights"):
        flow["nights"] = arguments["nights"]
    return await _propose(runtime, _when(flow, ctx, arguments["start"], service))


async def cancel(runtime: Runtime) -> Command[Any]:
    return await _propose(runtime, BookingFlow(action="cancel"))


def _when(flow: BookingFlow, ctx: TurnContext, start: dt.datetime,
          service: Service | None) -> BookingFlow:
    local = start.astimezone(ctx.tz)
    flow["date"] = local.date().isoformat()
    if service is None or service.kind != "night":
        flow["time"] = f"{local:%H:%M}"
    return flow


async def _propose(runtime: Runtime, flow: BookingFlow) -> Command[Any]:
    """Plan the change as the dialogue does; the model learns the proposal (or why there is
    none) in the words the customer would be told."""
    planned = await plan(flow, _locale(runtime), runtime.context)
    reply = planned["reply"]
    said = render(reply["key"], _locale(runtime), reply["params"])
    result = ({"status": "awaiting_confirmation", "proposal": said,
               "note": "Nothing is changed yet: ask the customer to confirm; it happens only "
                       "after their yes."}
              if planned.get("pending") else {"status": "not_proposed", "answer": said})
    return Command(update={**planned, "messages": [ToolMessage(
        _result(**result), tool_call_id=runtime.tool_call_id)]})


def _tool(name: str, operation: Any, arguments: type[BaseModel] | str) -> BaseTool:
    """A tool; one without arguments takes its description. Its schema then holds only the
    injected runtime: LangChain calls a tool whose schema is empty with no arguments at all."""
    if isinstance(arguments, str):
        arguments = create_model(name, __doc__=arguments,
                                 runtime=(Annotated[Any, InjectedToolArg], None))
    return StructuredTool.from_function(coroutine=operation, name=name,
                                        description=arguments.__doc__ or name,
                                        args_schema=arguments)


TOOLS: list[BaseTool] = [
    _tool("find_free_times", find_free_times, FreeTimesArguments),
    _tool("next_booking", next_booking, "The customer's next booking."),
    _tool("search_faq", search_faq, FaqArguments),
    _tool("hand_off", hand_off, "Leave the conversation to the staff, when the customer asks "
                                "for a person or you cannot help."),
    _tool("book", book, BookArguments),
    _tool("reschedule", reschedule, RescheduleArguments),
    # CancelRequest's fields are the conversation's to decide: its next booking, as it is.
    _tool("cancel", cancel, "Propose cancelling the customer's next booking; it is "
                            "cancelled only when they confirm."),
]


def briefing(ctx: TurnContext, locale: Locale) -> str:
    """The system prompt of a hosted model acting with the tools: the business, its
    catalogue with the ids the tools take, and the rule that changes wait for a yes."""
    now = ctx.now.astimezone(ctx.tz)
    services = "\n".join(
        f"- {s.id}: {ctx.catalogue.said(s, locale)} ({s.name}), "
        f"{'per night' if s.kind == 'night' else f'{s.duration_minutes} min'}, "
        f"{say_price(s.price, s.currency)}" for s in ctx.catalogue.services)
    return (f"{ctx.business.instructions} The business is "
            f"{ctx.tenant.display_name or ctx.tenant.slug}. Now it is {now:%A %Y-%m-%d %H:%M} "
            f"(UTC offset {now:%z}); say times in that timezone.\n"
            f"Services (id: name):\n{services}\n"
            f"Opening hours: {opening_hours(ctx.catalogue, locale)}.\n"
            f"Answer the customer in {LANGUAGES[locale]}, briefly. Use the tools for free times "
            "and bookings. book, reschedule and cancel only propose a change: the customer "
            "confirms it, and nothing changes before; never say a change is made before that.")
