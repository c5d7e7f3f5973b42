"""Local stand-ins for the hosted model APIs, following their documented contracts and
recording what they were sent: OpenAI's chat completions (`POST /v1/chat/completions`, JSON or
server-sent events, tool calls) and Amazon Bedrock's Converse (`POST /model/{id}/converse`, and
`/converse-stream` answering in AWS's binary event-stream encoding).

The "model" is a script: a forced tool call is answered with the arguments `understand` gives
for the customer's last message; any other request gets `[model] ` + its last message back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.ports import free_port

Understand = Callable[[str], dict[str, Any]]
PREFIX = "[model] "


class ModelServer:
    def __init__(self, understand: Understand) -> None:
        self.understand = understand
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
        if body.get("tools"):
            name = body["tools"][0]["function"]["name"]
            call = {"id": "call_1", "type": "function",
                    "function": {"name": name, "arguments": json.dumps(self.understand(last))}}
            message: dict[str, Any] = {"role": "assistant", "content": None,
                                       "tool_calls": [call]}
            finish = "tool_calls"
        else:
            message, finish = {"role": "assistant", "content": PREFIX + last}, "stop"
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
        last = _text_of(body["messages"][-1]["content"])
        if body.get("toolConfig"):
            name = body["toolConfig"]["tools"][0]["toolSpec"]["name"]
            content: list[dict[str, Any]] = [{"toolUse": {
                "toolUseId": "tooluse_1", "name": name, "input": self.understand(last)}}]
            stop = "tool_use"
        else:
            content, stop = [{"text": PREFIX + last}], "end_turn"
        return JSONResponse({"output": {"message": {"role": "assistant", "content": content}},
                             "stopReason": stop, "metrics": {"latencyMs": 1},
                             "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}})


    async def _converse_stream(self, request: Request) -> Response:
        """ConverseStream for a reply in prose: messageStart, a contentBlockDelta per word,
        contentBlockStop, messageStop, metadata."""
        body = await self._record(request)
        words = (PREFIX + _text_of(body["messages"][-1]["content"])).split(" ")
        events: list[tuple[str, dict[str, Any]]] = [("messageStart", {"role": "assistant"})]
        events += [("contentBlockDelta", {"contentBlockIndex": 0, "delta": {
            "text": word if i == len(words) - 1 else word + " "}}) for i, word in enumerate(words)]
        events += [("contentBlockStop", {"contentBlockIndex": 0}),
                   ("messageStop", {"stopReason": "end_turn"}),
                   ("metadata", {"usage": {"inputTokens": 1, "outputTokens": 1,
                                           "totalTokens": 2}, "metrics": {"latencyMs": 1}})]
        return Response(b"".join(_event_message(name, payload) for name, payload in events),
                        media_type="application/vnd.amazon.eventstream")


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
    if message.get("tool_calls"):
        call = message["tool_calls"][0]
        arguments = call["function"]["arguments"]
        yield chunk({"tool_calls": [{"index": 0, "id": call["id"], "type": "function",
                                     "function": {"name": call["function"]["name"],
                                                  "arguments": ""}}]})
        for start in range(0, len(arguments), 16):  # arguments arrive in pieces
            yield chunk({"tool_calls": [{"index": 0, "function": {
                "arguments": arguments[start:start + 16]}}]})
    else:
        for word in message["content"].split(" "):
            yield chunk({"content": word + " "})
    yield chunk({}, finish)
    yield b"data: [DONE]\n\n"
