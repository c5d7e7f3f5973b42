"""`GET|POST /v1/webhooks/meta`: Meta's subscription handshake and its deliveries for
WhatsApp, Messenger and Instagram. A delivery is checked against its raw bytes, stored, and
answered 200 at once; the agent answers through the channel's sender. Refusals are problems
(401 unsigned, 403 bad signature, 400 malformed) and store nothing."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from simptu.runtime.api.dependencies import PlatformDep
from simptu.runtime.api.problems import ApiProblem, problem_responses
from simptu.runtime.channels.refusals import WebhookRefused

router = APIRouter(prefix="/v1/webhooks", tags=["channels"])


class WebhookAccepted(BaseModel):
    messages: int
    duplicates: int
    statuses: int
    unrouted: int


@router.get("/meta", response_class=PlainTextResponse,
            responses=problem_responses(400, 403))
async def verify_meta_subscription(
        platform: PlatformDep,
        mode: str | None = Query(default=None, alias="hub.mode"),
        token: str | None = Query(default=None, alias="hub.verify_token"),
        challenge: str | None = Query(default=None, alias="hub.challenge")) -> str:
    """Meta's handshake: the challenge back when the verify token is one we gave out."""
    try:
        return await platform.meta_webhook.verify_subscription(mode, token, challenge)
    except WebhookRefused as refused:
        raise ApiProblem(refused.status, refused.reason, refused.detail) from None


@router.post("/meta", response_model=WebhookAccepted,
             responses=problem_responses(400, 401, 403, 413))
async def receive_meta_delivery(request: Request, platform: PlatformDep) -> WebhookAccepted:
    """One delivery of messages and statuses, signed with `X-Hub-Signature-256`."""
    raw = await request.body()
    try:
        accepted = await platform.meta_webhook.receive(
            raw, request.headers.get("x-hub-signature-256"))
    except WebhookRefused as refused:
        raise ApiProblem(refused.status, refused.reason, refused.detail) from None
    return WebhookAccepted(messages=accepted.messages, duplicates=accepted.duplicates,
                           statuses=accepted.statuses, unrouted=accepted.unrouted)
