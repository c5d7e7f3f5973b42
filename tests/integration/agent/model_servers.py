"""Local stand-ins for the hosted model APIs, following their documented contracts and
recording what they were sent: OpenAI's chat completions (`POST /v1/chat/completions`, JSON or
server-sent events, tool calls) and Amazon Bedrock's Converse (`POST /model/{id}/converse`, and
`/converse-stream` answering in AWS's binary event-stream encoding).

The "model" is a script: a forced tool call is answered with the arguments `understand` gives
for the customer's last message; a request offering tools is answered by `act` (tool calls or
text), which reads the request in either contract alike (`Exchange`); any other request gets
`[model] ` + its last message back."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import re
import struct
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.ports import free_port

Understand = Callable[[str], dict[str, Any]]
PREFIX = "[model] "


@dataclass(frozen=True)
class ToolCall:
    name: str
    # The arguments; a string is sent as it is (arguments that are not JSON).
    args: dict[str, Any] | str


@dataclass
class Exchange:
    """A request offering tools, read alike in both contracts."""

    system: str
    tools: list[str]
    text: str  # the customer's last message
    # The results of the calls since it, in order: (call id, content, whether an error).
    results: list[tuple[str, str, bool]] = field(default_factory=list)

    def service_id(self, name: str) -> str:
        """The id the system prompt lists for the catalogue's service `name`."""
        found = re.search(rf"(\S+): \S.* \({re.escape(name)}\)", self.system)
        assert found is not None, self.system
        return found[1]


Acted = str | list[ToolCall]
# The script: its answer, or (a script that itself runs something) an awaitable of it.
Act = Callable[[Exchange], Acted | Awaitable[Acted]]


class ModelServer:
    def __init__(self, understand: Understand, act: Act | None = None) -> None:
        self.understand = understand
        self.act = act
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.paths: list[str] = []
        self.port = free_port()
        self.app = Starlette(routes=[
            Route("/v1/chat/completions", self._chat_completions, methods=["POST"]),
            Route("/model/{model_id:path}/converse", self._converse, methods=["POST"]),
            Route("/model/{model_id:path}/converse-stream", self._converse_stream,
                  methods=["POST"])])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ModelServer]:
        server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port,
                                               log_level="warning", lifespan="off"))
        task = asyncio.create_task(server.serve())
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
                await asyncio.sleep(0.02)
        try:
            yield self
        finally:
            server.should_exit = True
            await task

    async def _record(self, request: Request) -> dict[str, Any]:
        body: dict[str, Any] = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        self.paths.append(request.url.path)
        return body

    # OpenAI chat completions ------------------------------------------------------------------

    async def _chat_completions(self, request: Request) -> Response:
        body = await self._record(request)
        last = _text_of(body["messages"][-1]["content"])
        if body.get("tools") and (self.act is None or isinstance(body.get("tool_choice"), dict)):
            name = body["tools"][0]["function"]["name"]
            message: dict[str, Any] = _openai_calls([ToolCall(name, self.understand(last))])
        elif body.get("tools") and self.act is not None:
            acted = await _acted(self.act, _openai_exchange(body))
            message = (_openai_calls(acted) if isinstance(acted, list)
                       else {"role": "assistant", "content": acted})
        else:
            message = {"role": "assistant", "content": PREFIX + last}
        finish = "tool_calls" if message.get("tool_calls") else "stop"
        if body.get("stream"):
            return StreamingResponse(_sse(body["model"], message, finish),
                                     media_type="text/event-stream")
        return JSONResponse({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 0,
            "model": body["model"], "choices": [{"index": 0, "message": message,
                                                 "finish_reason": finish}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

    # Bedrock Converse ---------------------------------------------------------------------------

    async def _converse(self, request: Request) -> Response:
        body = await self._record(request)
        content = await self._converse_content(body)
        stop = "tool_use" if any("toolUse" in block for block in content) else "end_turn"
        return JSONResponse({"output": {"message": {"role": "assistant", "content": content}},
                             "stopReason": stop, "metrics": {"latencyMs": 1},
                             "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}})


    async def _converse_content(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The answer's content blocks: toolUse blocks, or text."""
        tools = body.get("toolConfig")
        if tools and (self.act is None or "tool" in tools.get("toolChoice", {})):
            name = tools["tools"][0]["toolSpec"]["name"]
            last = _text_of(body["messages"][-1]["content"])
            return _converse_calls([ToolCall(name, self.understand(last))])
        acted = (await _acted(self.act, _converse_exchange(body)) if tools and self.act is not None
                 else PREFIX + _text_of(body["messages"][-1]["content"]))
        return _converse_calls(acted) if isinstance(acted, list) else [{"text": acted}]

    async def _converse_stream(self, request: Request) -> Response:
        """ConverseStream: messageStart; per text block a contentBlockDelta per word, per
        toolUse block a contentBlockStart with its id and name and its input JSON in pieces;
        contentBlockStop after each; messageStop, metadata."""
        body = await self._record(request)
        events: list[tuple[str, dict[str, Any]]] = [("messageStart", {"role": "assistant"})]
        content = await self._converse_content(body)
        for index, block in enumerate(content):
            events += _converse_block_events(index, block)
        stop = "tool_use" if any("toolUse" in block for block in content) else "end_turn"
        events += [("messageStop", {"stopReason": stop}),
                   ("metadata", {"usage": {"inputTokens": 1, "outputTokens": 1,
                                           "totalTokens": 2}, "metrics": {"latencyMs": 1}})]
        return Response(b"".join(_event_message(name, payload) for name, payload in events),
                        media_type="application/vnd.amazon.eventstream")


def _converse_block_events(index: int, block: dict[str, Any]
                           ) -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    if "toolUse" in block:
        use = block["toolUse"]
        arguments = json.dumps(use["input"])
        events.append(("contentBlockStart", {"contentBlockIndex": index, "start": {
            "toolUse": {"toolUseId": use["toolUseId"], "name": use["name"]}}}))
        events += [("contentBlockDelta", {"contentBlockIndex": index, "delta": {
            "toolUse": {"input": arguments[start:start + 16]}}})
            for start in range(0, len(arguments), 16)]
    else:
        words = block["text"].split(" ")
        events += [("contentBlockDelta", {"contentBlockIndex": index, "delta": {
            "text": word if i == len(words) - 1 else word + " "}}) for i, word in enumerate(words)]
    return [*events, ("contentBlockStop", {"contentBlockIndex": index})]


def _openai_calls(calls: list[ToolCall]) -> dict[str, Any]:
    return {"role": "assistant", "content": None, "tool_calls": [
        {"id": f"call_{number}", "type": "function", "function": {
            "name": call.name,
            "arguments": call.args if isinstance(call.args, str) else json.dumps(call.args)}}
        for number, call in enumerate(calls, 1)]}


def _converse_calls(calls: list[ToolCall]) -> list[dict[str, Any]]:
    # Converse's toolUse input is a JSON object: arguments that are not JSON cannot be sent.
    return [{"toolUse": {"toolUseId": f"tooluse_{number}", "name": call.name,
                         "input": call.args}} for number, call in enumerate(calls, 1)]


async def _acted(act: Act, exchange: Exchange) -> Acted:
    acted = act(exchange)
    return await acted if inspect.isawaitable(acted) else acted


def _openai_exchange(body: dict[str, Any]) -> Exchange:
    messages = body["messages"]
    customer = max(i for i, m in enumerate(messages) if m["role"] == "user")
    return Exchange(
        system=next((_text_of(m["content"]) for m in messages if m["role"] == "system"), ""),
        tools=[tool["function"]["name"] for tool in body["tools"]],
        text=_text_of(messages[customer]["content"]),
        results=[(m["tool_call_id"], _text_of(m["content"]), _text_of(m["content"])
                  .startswith("Error")) for m in messages[customer:] if m["role"] == "tool"])


def _converse_exchange(body: dict[str, Any]) -> Exchange:
    messages = body["messages"]
    customer = max(i for i, m in enumerate(messages) if m["role"] == "user"
                   and any("text" in block for block in m["content"]))
    results = [block["toolResult"] for m in messages[customer:] for block in m["content"]
               if "toolResult" in block]
    return Exchange(
        system=_text_of(body.get("system", [])),
        tools=[tool["toolSpec"]["name"] for tool in body["toolConfig"]["tools"]],
        text=_text_of(messages[customer]["content"]),
        results=[(result["toolUseId"], _text_of(result["content"]),
                  result.get("status") == "error") for result in results])


def _event_message(event_type: str, payload: dict[str, Any]) -> bytes:
    """One message of AWS's event-stream encoding: a prelude (total and header lengths and
    their CRC32), string headers (type 7), the JSON payload, and a CRC32 of all before it."""
    headers = b"".join(
        bytes([len(name)]) + name.encode() + b"\x07" + struct.pack(">H", len(value))
        + value.encode()
        for name, value in ((":event-type", event_type), (":content-type", "application/json"),
                            (":message-type", "event")))
    data = json.dumps(payload).encode()
    lengths = struct.pack(">II", 12 + len(headers) + len(data) + 4, len(headers))
    message = lengths + struct.pack(">I", zlib.crc32(lengths)) + headers + data
    return message + struct.pack(">I", zlib.crc32(message))


def _text_of(content: Any) -> str:
    """A message's text: OpenAI gives a string (or parts), Converse a list of blocks."""
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


async def _sse(model: str, message: dict[str, Any], finish: str) -> AsyncIterator[bytes]:
    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        return ("data: " + json.dumps({
            "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0,
            "model": model, "choices": [{"index": 0, "delta": delta,
                                         "finish_reason": finish_reason}]}) + "\n\n").encode()

    yield chunk({"role": "assistant", "content": ""})
    for index, call in enumerate(message.get("tool_calls") or []):
        arguments = call["function"]["arguments"]
        yield chunk({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                     "function": {"name": call["function"]["name"],
                                                  "arguments": ""}}]})
        for start in range(0, len(arguments), 16):  # arguments arrive in pieces
            yield chunk({"tool_calls": [{"index": index, "function": {
                "arguments": arguments[start:start + 16]}}]})
    if not message.get("tool_calls"):
        words = message["content"].split(" ")
        for i, word in enumerate(words):
            yield chunk({"content": word if i == len(words) - 1 else word + " "})
    yield chunk({}, finish)
    yield b"data: [DONE]\n\n"
