"""A guest's message on Booking.com reaches the demo hotel's assistant through the stack's
poller, and its answer goes back to that guest's conversation through the messaging API (the
stack's agent and channel senders, the Booking.com stand-in)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import httpx

from simptu.devstack.demo_channels import demo_booking_com_property
from simptu.devstack.envfile import StackEnv
from tests.integration.channels.conftest import until

HOTEL = "hotel-carpati-brasov"


def replied(http: httpx.AsyncClient, conversation_id: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        answer = await http.get("/_standin/replies", params={"conversation_id": conversation_id})
        return bool(answer.json()["replies"])
    return check


async def test_a_guests_question_is_answered_in_their_booking_com_conversation(
        stack: StackEnv) -> None:
    conversation_id = f"conv-{uuid.uuid4().hex[:12]}"
    property_id = demo_booking_com_property(HOTEL).property_id
    async with httpx.AsyncClient(base_url=stack.values["SIMPTU_BOOKING_COM_OTA_URL"],
                                 timeout=10) as http:
        (await http.post("/_standin/messages", json={
            "property_id": property_id, "conversation_id": conversation_id,
            "reservation_id": "4105550099", "content": "Bună ziua, la ce oră este check-in?",
        })).raise_for_status()
        await until(replied(http, conversation_id), seconds=180)
        [reply] = (await http.get("/_standin/replies", params={
            "conversation_id": conversation_id})).json()["replies"]
    assert reply["property_id"] == property_id
    assert reply["content"].strip()
