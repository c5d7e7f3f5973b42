"""Twilio's webhooks: `POST /v1/webhooks/twilio/sms` (inbound SMS, answered with TwiML; the
reply goes out through the REST API), `/status` (what became of a sent SMS) and the voice
calls' `/voice`, `/voice/turn`, `/voice/wait`, `/voice/message` and `/voice/status`. Each is
checked with Twilio's signature over the public URL it called and every parameter: 403 and
nothing stored otherwise."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request, Response

from simptu.runtime.api.dependencies import PlatformDep
from simptu.runtime.api.problems import ApiProblem, problem_responses
from simptu.runtime.channels.refusals import WebhookRefused

router = APIRouter(prefix="/v1/webhooks/twilio", tags=["channels"])
ERRORS = problem_responses(403, 404, 503)
TWIML = "application/xml"
T = TypeVar("T")


async def _handled(request: Request, platform: PlatformDep,
                   handle: Callable[..., Awaitable[T]], *extra: object) -> T:
    """`handle(public URL Twilio called, its form parameters, its signature, *extra)`, with a
    refusal as the API's problem."""
    params = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
    try:
        signature = platform.twilio_webhooks.signature_given(
            request.headers.get("x-twilio-signature"))
        url = platform.twilio_webhooks.public_url(request.url.path, request.url.query)
        return await handle(url, params, signature, *extra)
    except WebhookRefused as refused:
        raise ApiProblem(refused.status, refused.reason, refused.detail) from None


@router.post("/sms", response_class=Response, responses=ERRORS)
async def receive_sms(request: Request, platform: PlatformDep) -> Response:
    """An SMS to one of a tenant's numbers."""
    twiml = await _handled(request, platform, platform.twilio_webhooks.sms)
    return Response(twiml, media_type=TWIML)


@router.post("/status", status_code=204, response_class=Response, responses=ERRORS)
async def sms_status(request: Request, platform: PlatformDep) -> Response:
    """Twilio's status callback of an SMS the platform sent."""
    await _handled(request, platform, platform.twilio_webhooks.message_status)
    return Response(status_code=204)


@router.post("/voice", response_class=Response, responses=ERRORS)
async def incoming_call(request: Request, platform: PlatformDep) -> Response:
    """A call to one of a tenant's numbers: a greeting, then listening."""
    twiml = await _handled(request, platform, platform.voice_calls.incoming)
    return Response(twiml, media_type=TWIML)


@router.post("/voice/turn", response_class=Response, responses=ERRORS)
async def call_turn(request: Request, platform: PlatformDep,
                    turn: int = Query(ge=1, le=1000)) -> Response:
    """What the caller said (`SpeechResult`, `Confidence`): the agent's reply, spoken."""
    twiml = await _handled(request, platform, platform.voice_calls.turn, turn)
    return Response(twiml, media_type=TWIML)


@router.post("/voice/wait", response_class=Response, responses=ERRORS)
async def call_wait(request: Request, platform: PlatformDep,
                    session: uuid.UUID, turn: int = Query(ge=1, le=1000),
                    after: int = Query(ge=0)) -> Response:
    """A turn whose reply was not ready yet, polled again."""
    twiml = await _handled(request, platform, platform.voice_calls.wait, turn, session, after)
    return Response(twiml, media_type=TWIML)


@router.post("/voice/message", response_class=Response, responses=ERRORS)
async def call_message(request: Request, platform: PlatformDep) -> Response:
    """The message a caller left for staff (no staff number to put them through to)."""
    twiml = await _handled(request, platform, platform.voice_calls.message)
    return Response(twiml, media_type=TWIML)


@router.post("/voice/status", status_code=204, response_class=Response, responses=ERRORS)
async def call_status(request: Request, platform: PlatformDep) -> Response:
    """A call's status: when it ended, its conversation is closed."""
    await _handled(request, platform, platform.voice_calls.call_status)
    return Response(status_code=204)
