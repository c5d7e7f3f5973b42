"""Twilio's webhooks: `POST /v1/webhooks/twilio/sms` (inbound SMS, answered with TwiML; the
reply goes out through the REST API), `/status` (what became of a sent SMS) and the voice
calls' `/voice`, `/voice/turn`, `/voice/wait` and `/voice/status`. Each is checked with
Twilio's signature over the public URL it called and every parameter: 403 and nothing stored
otherwise."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request, Response

from simptu.runtime.api.dependencies import PlatformDep
from simptu.runtime.api.problems import ApiProblem, problem_responses
from simptu.runtime.channels.refusals import WebhookRefused

router = APIRouter(prefix="/v1/webhooks/twilio", tags=["channels"])
ERRORS = problem_responses(403, 404, 503)
TWIML = "application/xml"


Signed = tuple[str, dict[str, str], str | None]


async def _signed(request: Request, platform: PlatformDep) -> Signed:
    """The public URL Twilio called, its form parameters and its signature."""
    params = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
    try:
        url = platform.twilio_webhooks.public_url(request.url.path, request.url.query)
    except WebhookRefused as refused:
        raise ApiProblem(refused.status, refused.reason, refused.detail) from None
    return url, params, request.headers.get("x-twilio-signature")


def _problem(refused: WebhookRefused) -> ApiProblem:
    return ApiProblem(refused.status, refused.reason, refused.detail)


@router.post("/sms", response_class=Response, responses=ERRORS)
async def receive_sms(request: Request, platform: PlatformDep) -> Response:
    """An SMS to one of a tenant's numbers."""
    try:
        twiml = await platform.twilio_webhooks.sms(*await _signed(request, platform))
    except WebhookRefused as refused:
        raise _problem(refused) from None
    return Response(twiml, media_type=TWIML)


@router.post("/status", status_code=204, response_class=Response, responses=ERRORS)
async def sms_status(request: Request, platform: PlatformDep) -> Response:
    """Twilio's status callback of an SMS the platform sent."""
    try:
        await platform.twilio_webhooks.message_status(*await _signed(request, platform))
    except WebhookRefused as refused:
        raise _problem(refused) from None
    return Response(status_code=204)


@router.post("/voice", response_class=Response, responses=ERRORS)
async def incoming_call(request: Request, platform: PlatformDep) -> Response:
    """A call to one of a tenant's numbers: a greeting, then listening."""
    try:
        twiml = await platform.voice_calls.incoming(*await _signed(request, platform))
    except WebhookRefused as refused:
        raise _problem(refused) from None
    return Response(twiml, media_type=TWIML)


@router.post("/voice/turn", response_class=Response, responses=ERRORS)
async def call_turn(request: Request, platform: PlatformDep,
                    turn: int = Query(ge=1, le=1000)) -> Response:
    """What the caller said (`SpeechResult`, `Confidence`): the agent's reply, spoken."""
    try:
        twiml = await platform.voice_calls.turn(*await _signed(request, platform), turn)
    except WebhookRefused as refused:
        raise _problem(refused) from None
    return Response(twiml, media_type=TWIML)


@router.post("/voice/wait", response_class=Response, responses=ERRORS)
async def call_wait(request: Request, platform: PlatformDep,
                    session: uuid.UUID, turn: int = Query(ge=1, le=1000),
                    after: int = Query(ge=0)) -> Response:
    """A turn whose reply was not ready yet, polled again."""
    try:
        twiml = await platform.voice_calls.wait(*await _signed(request, platform), turn,
                                                session, after)
    except WebhookRefused as refused:
        raise _problem(refused) from None
    return Response(twiml, media_type=TWIML)


@router.post("/voice/status", status_code=204, response_class=Response, responses=ERRORS)
async def call_status(request: Request, platform: PlatformDep) -> Response:
    """A call's status: when it ended, its conversation is closed."""
    try:
        await platform.voice_calls.call_status(*await _signed(request, platform))
    except WebhookRefused as refused:
        raise _problem(refused) from None
    return Response(status_code=204)
