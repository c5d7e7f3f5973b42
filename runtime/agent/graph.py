"""The conversation graph, one for every business type (what differs is the tenant's
catalogue and its `BusinessProfile`):

    understand → decide → respond ─┬─ END
                   ▲               └─ confirm (interrupt: the page's function_result or a
                   │                    plain "da"/"yes") ─┬─ execute → respond
                   └── a message that is no answer ────────┴─ declined → respond
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt

from simptu.runtime.agent.changes import execute
from simptu.runtime.agent.dialogue import decide
from simptu.runtime.agent.intents import answer_to_question
from simptu.runtime.agent.language import detect_language
from simptu.runtime.agent.state import ConversationState, Reply, TurnContext, pending_change
from simptu.runtime.agent.templates import render

CONFIRM_FUNCTION = "confirm_booking"


async def understand(state: ConversationState,
                     runtime: Runtime[TurnContext]) -> ConversationState:
    ctx = runtime.context
    text = state["inbound"]["text"]
    locale = detect_language(text, fallback=state.get("locale") or ctx.session_locale)
    understanding = await ctx.provider.understand(
        text, locale, ctx.provider_context(state.get("transcript", [])))
    return {"locale": locale, "understanding": understanding,
            "transcript": [{"role": "customer", "text": text}]}


async def decide_node(state: ConversationState,
                      runtime: Runtime[TurnContext]) -> ConversationState:
    return await decide(state, runtime.context)


async def respond(state: ConversationState,
                  runtime: Runtime[TurnContext]) -> ConversationState:
    """Stream the answer (each piece to the page at once), and remember it."""
    ctx, locale = runtime.context, state.get("locale", "ro")
    reply = state["reply"]
    text = render(reply["key"], locale, reply["params"])
    write = get_stream_writer()
    said = []
    async for piece in ctx.provider.phrase(
            text, locale, ctx.provider_context(state.get("transcript", []))):
        write({"delta": piece})
        said.append(piece)
    return {"transcript": [{"role": "agent", "text": "".join(said)}]}


def after_respond(state: ConversationState) -> str:
    return "confirm" if state.get("pending") else END


async def confirm(state: ConversationState) -> Command[Literal["execute", "respond",
                                                               "understand"]]:
    """Wait for the customer's answer to the proposal: the page's function_result
    (`{"confirmed": true}`) or a message; a message that is neither yes nor no is a new
    request, and the proposal is dropped."""
    pending = pending_change(state)
    assert pending is not None, "confirm follows a proposal"
    answer = interrupt({"call_id": pending["call_id"], "name": CONFIRM_FUNCTION,
                        "arguments": {"action": pending["action"], **pending["params"]}})
    if "confirmed" in answer:
        said: str | None = "yes" if answer["confirmed"] else "no"
    else:
        said = answer_to_question(answer.get("text", ""))
        if said is None:
            return Command(goto="understand", update={"pending": None,
                                                      "inbound": {"text": answer["text"]}})
    if said == "yes":
        return Command(goto="execute")
    declined: ConversationState = {"pending": None, "booking": {},
                                   "reply": Reply(key="declined", params={})}
    return Command(goto="respond", update=declined)


async def execute_node(state: ConversationState,
                       runtime: Runtime[TurnContext]) -> ConversationState:
    return await execute(state, runtime.context)


def build_graph(checkpointer: BaseCheckpointSaver[Any] | None
                ) -> CompiledStateGraph[ConversationState, TurnContext, Any, Any]:
    graph = StateGraph(ConversationState, context_schema=TurnContext)
    graph.add_node("understand", understand)
    graph.add_node("decide", decide_node)
    graph.add_node("respond", respond)
    graph.add_node("confirm", confirm)
    graph.add_node("execute", execute_node)
    graph.add_edge(START, "understand")
    graph.add_edge("understand", "decide")
    graph.add_edge("decide", "respond")
    graph.add_conditional_edges("respond", after_respond)
    graph.add_edge("execute", "respond")
    return graph.compile(checkpointer=checkpointer)
