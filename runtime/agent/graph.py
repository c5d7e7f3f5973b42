"""The conversation graph, one for every business type (what differs is the tenant's
catalogue and its `BusinessProfile`). With the local model the agent's dialogue decides:

    understand → decide → respond ─┬─ END
                   ▲               └─ confirm (interrupt: the page's function_result or a
                   │                    plain "da"/"yes") ─┬─ execute → respond
                   └── a message that is no answer ────────┴─ declined → respond

A reply offering free times to a web chat also sends a `choose_slot` call (slot_picker.py: the
times the dialogue's reply, or a hosted model's answer, names); the page's pick comes back as a
new turn, as if the customer had typed that day and time.

A hosted model acts itself, with the tools of tools.py (a change tool only proposes, and the
same confirm interrupt stands between the proposal and the change):

    understand (listen) → act ─┬─ tools (ToolNode) → act
                               ├─ END
                               └─ confirm ─┬─ execute → respond → END
                                           └─ declined → respond → END
"""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.utils import message_chunk_to_message
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import REMOVE_ALL_MESSAGES
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode
from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt

from simptu.runtime.agent.changes import execute
from simptu.runtime.agent.dialogue import decide
from simptu.runtime.agent.intents import answer_to_question
from simptu.runtime.agent.providers.base import ToolCallingProvider
from simptu.runtime.agent.providers.hosted import history
from simptu.runtime.agent.slot_picker import (
    choose_slot_call,
    offer,
    offer_found,
    picked_understanding,
)
from simptu.runtime.agent.state import ConversationState, Reply, TurnContext, pending_change
from simptu.runtime.agent.templates import render
from simptu.runtime.agent.tools import TOOL_ERRORS, TOOLS, briefing
from simptu.runtime.core.language import Locale, detect_language

CONFIRM_FUNCTION = "confirm_booking"
# Model calls in one turn before the agent gives up on the model's plan ("unknown").
MAX_MODEL_CALLS = 6


def _heard(state: ConversationState, ctx: TurnContext) -> tuple[str, Locale]:
    text = state["inbound"]["text"]
    return text, detect_language(text, fallback=state.get("locale") or ctx.session_locale)


async def understand(state: ConversationState,
                     runtime: Runtime[TurnContext]) -> ConversationState:
    ctx = runtime.context
    text, locale = _heard(state, ctx)
    picked = state["inbound"].get("picked")
    if picked is not None:  # the page's pick: its day and time, in the booking under way
        locale = state.get("locale") or ctx.session_locale
        understanding = picked_understanding(picked, state.get("booking", {}), ctx)
    else:
        understanding = await ctx.provider.understand(
            text, locale, ctx.provider_context(state.get("transcript", [])))
    return {"locale": locale, "understanding": understanding,
            "transcript": [{"role": "customer", "text": text}]}


async def listen(state: ConversationState,
                 runtime: Runtime[TurnContext]) -> ConversationState:
    """A hosted model's turn begins: the message joins the transcript (what the model reads),
    and the last turn's tool calls and proposal are dropped."""
    text, locale = _heard(state, runtime.context)
    return {"locale": locale, "transcript": [{"role": "customer", "text": text}],
            "messages": [RemoveMessage(id=REMOVE_ALL_MESSAGES)], "pending": None,
            "offered": None}


async def act(state: ConversationState, runtime: Runtime[TurnContext]
              ) -> Command[Literal["tools", "act", "confirm", "respond", "__end__"]]:
    """The model's next step, streamed: what it says goes to the customer as it comes; its
    tool calls go to `ToolNode`; its answer ends the turn, or waits for the customer's yes
    when a change tool proposed one."""
    ctx, locale = runtime.context, state.get("locale", "ro")
    provider = ctx.provider
    assert isinstance(provider, ToolCallingProvider), "act runs for a tool-calling model"
    turn = state.get("messages", [])
    spoken = [m.text for m in turn if isinstance(m, AIMessage) and m.text]
    write = get_stream_writer()
    answer = AIMessageChunk(content="")
    async for chunk in provider.act([SystemMessage(briefing(ctx, locale)),
                                     *history(state.get("transcript", [])), *turn], TOOLS):
        if chunk.text:
            if spoken and not answer.text:  # a new message after one the customer saw
                write({"delta": "\n\n"})
            write({"delta": chunk.text})
        answer += chunk
    message = message_chunk_to_message(answer)
    assert isinstance(message, AIMessage)
    if message.tool_calls or message.invalid_tool_calls:
        if sum(isinstance(m, AIMessage) for m in turn) + 1 >= MAX_MODEL_CALLS:
            return Command(goto="respond", update={"reply": Reply(key="unknown", params={})})
        goto: Literal["act", "tools"] = "tools" if message.tool_calls else "act"
        return Command(goto=goto, update={"messages": [message, *_not_json(message)]})
    said = "\n\n".join([*spoken, message.text])
    finish: Literal["confirm", "__end__"] = "confirm" if state.get("pending") else "__end__"
    offered = None if state.get("pending") else offer_found(turn, said, locale, ctx)
    if offered and ctx.channel == "web":
        write({"function_call": choose_slot_call(offered)})
    return Command(goto=finish, update={"messages": [message], "offered": offered,
                                        "transcript": [{"role": "agent", "text": said}]})


def _not_json(message: AIMessage) -> list[ToolMessage]:
    """The error results of calls whose arguments are not even JSON (LangChain keeps them
    apart, as invalid calls); ToolNode answers the others, errors included."""
    return [ToolMessage(f"Error: the arguments of {call['name']} are not valid JSON "
                        f"({call['error'] or call['args']}). Please fix your mistakes.",
                        tool_call_id=call["id"] or "", status="error")
            for call in message.invalid_tool_calls]


async def decide_node(state: ConversationState,
                      runtime: Runtime[TurnContext]) -> ConversationState:
    ctx = runtime.context
    update = await decide(state, ctx)
    flow = update.get("booking", state.get("booking", {}))
    return {**update, "offered": offer(update["reply"], flow, state.get("locale", "ro"), ctx)}


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
    offered = state.get("offered")
    if offered and ctx.channel == "web":  # after its reply's first pieces, as the page expects
        write({"function_call": choose_slot_call(offered)})
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


def build_graph(checkpointer: BaseCheckpointSaver[Any] | None, *, tools: bool = False
                ) -> CompiledStateGraph[ConversationState, TurnContext, Any, Any]:
    """The graph of the dialogue, or with `tools` the graph of a model that calls them."""
    graph = StateGraph(ConversationState, context_schema=TurnContext)
    graph.add_node("respond", respond)
    graph.add_node("confirm", confirm)
    graph.add_node("execute", execute_node)
    graph.add_edge(START, "understand")
    graph.add_conditional_edges("respond", after_respond)
    graph.add_edge("execute", "respond")
    if tools:
        # Named like the dialogue's first node: a message that answers no proposal goes back.
        graph.add_node("understand", listen)
        graph.add_node("act", act)
        graph.add_node("tools", ToolNode(TOOLS, handle_tool_errors=TOOL_ERRORS))
        graph.add_edge("understand", "act")
        graph.add_edge("tools", "act")
    else:
        graph.add_node("understand", understand)
        graph.add_node("decide", decide_node)
        graph.add_edge("understand", "decide")
        graph.add_edge("decide", "respond")
    return graph.compile(checkpointer=checkpointer)
