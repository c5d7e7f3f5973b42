"""The Booking.com stand-in and the platform's client and OTA parser agree on the contract:
Basic auth or an exchanged token (401 with an OTA error otherwise), the reservation feeds read
as reservations and emptied only by an acknowledgement, modifications and cancellations in
their own feed, the messaging queue confirmed batch by batch, and replies recorded."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest

from simptu.devstack.standins.booking_com import RunningStandin, serve
from simptu.runtime.channels.booking_com.client import BookingComClient
from simptu.runtime.channels.booking_com.ota import Feed, acknowledgement, parse_feed
from simptu.runtime.channels.send_errors import SendError
from simptu.runtime.core.channels.accounts import ChannelAccount

PROPERTY = "7654321"
ACCOUNT = ChannelAccount("booking_com", PROPERTY, {"username": "hotel-machine",
                                                   "password": "s3cret"})
CHECK_IN = dt.date(2031, 3, 10)


@pytest.fixture
async def standin() -> AsyncIterator[RunningStandin]:
    async with serve() as running:
        async with httpx.AsyncClient() as http:
            answer = await http.post(f"{running.url}/_standin/accounts", json={
                "username": "hotel-machine", "password": "s3cret",
                "property_ids": [PROPERTY]})
            answer.raise_for_status()
        yield running


@pytest.fixture
async def client(standin: RunningStandin) -> AsyncIterator[BookingComClient]:
    async with httpx.AsyncClient(timeout=5) as http:
        yield BookingComClient(http, standin.url, standin.url)


async def queue(standin: RunningStandin, **reservation: object) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{standin.url}/_standin/reservations", json={
            "property_id": PROPERTY, "given_name": "Ana", "surname": "Pop",
            "check_in": str(CHECK_IN), "check_out": str(CHECK_IN + dt.timedelta(days=2)),
            "room_name": "Double room", "total": "900.00", "currency": "RON", **reservation})
        answer.raise_for_status()


async def test_a_new_reservation_is_read_and_stays_until_acknowledged(
        standin: RunningStandin, client: BookingComClient) -> None:
    await queue(standin, reservation_id="4105000001")
    first = parse_feed(await client.reservations(ACCOUNT, "OTA_HotelResNotif"),
                       "OTA_HotelResNotif")
    again = parse_feed(await client.reservations(ACCOUNT, "OTA_HotelResNotif"),
                       "OTA_HotelResNotif")
    assert [n.reservation_id for n in first] == [n.reservation_id for n in again] == [
        "4105000001"]
    reservation = first[0].reservation
    assert reservation is not None
    assert (reservation.action, reservation.guest_name, reservation.check_in,
            reservation.check_out, reservation.room_type, reservation.total,
            reservation.currency) == ("new", "Ana Pop", CHECK_IN,
                                      CHECK_IN + dt.timedelta(days=2), "Double room",
                                      Decimal("900.00"), "RON")
    assert first[0].property_id == PROPERTY
    await client.acknowledge(ACCOUNT, "OTA_HotelResNotif",
                             acknowledgement("OTA_HotelResNotif", ["4105000001"]))
    assert parse_feed(await client.reservations(ACCOUNT, "OTA_HotelResNotif"),
                      "OTA_HotelResNotif") == []
    assert [a["reservation_id"] for a in standin.state.acks] == ["4105000001"]


async def test_modifications_and_cancellations_come_in_the_modify_feed(
        standin: RunningStandin, client: BookingComClient) -> None:
    await queue(standin, reservation_id="4105000002", status="Modify",
                check_in=str(CHECK_IN + dt.timedelta(days=1)))
    await queue(standin, reservation_id="4105000003", status="Cancel")
    feed: Feed = "OTA_HotelResModifyNotif"
    found = parse_feed(await client.reservations(ACCOUNT, feed), feed)
    assert [(n.reservation_id, n.reservation and n.reservation.action) for n in found] == [
        ("4105000002", "modify"), ("4105000003", "cancel")]
    assert parse_feed(await client.reservations(ACCOUNT, "OTA_HotelResNotif"),
                      "OTA_HotelResNotif") == []


async def test_a_reservation_of_several_rooms_is_not_read_as_one_booking(
        standin: RunningStandin, client: BookingComClient) -> None:
    await queue(standin, reservation_id="4105000004", rooms=2)
    [found] = parse_feed(await client.reservations(ACCOUNT, "OTA_HotelResNotif"),
                         "OTA_HotelResNotif")
    assert found.reservation is None
    assert "2 room stays" in found.problem


async def test_wrong_credentials_are_refused_with_an_ota_error(
        standin: RunningStandin, client: BookingComClient) -> None:
    wrong = ChannelAccount("booking_com", PROPERTY, {"username": "hotel-machine",
                                                     "password": "nope"})
    with pytest.raises(SendError) as refused:
        await client.reservations(wrong, "OTA_HotelResNotif")
    assert refused.value.kind == "bad-token"
    assert 'ShortText="Authorization Required"' in refused.value.detail


async def test_an_exchanged_token_authenticates_like_the_machine_account(
        standin: RunningStandin) -> None:
    async with httpx.AsyncClient(base_url=standin.url) as http:
        token = (await http.post("/token-based-authentication/exchange", json={
            "client_id": "hotel-machine", "client_secret": "s3cret"})).json()
        assert token["expires_in"] == 3600
        answer = await http.get("/hotels/ota/OTA_HotelResNotif",
                                headers={"Authorization": f"Bearer {token['jwt']}"})
        refused = await http.get("/hotels/ota/OTA_HotelResNotif",
                                 headers={"Authorization": "Bearer made-up"})
    assert answer.status_code == 200
    assert b"OTA_HotelResNotifRQ" in answer.content
    assert refused.status_code == 401


async def test_guest_messages_are_queued_until_confirmed_and_replies_recorded(
        standin: RunningStandin, client: BookingComClient) -> None:
    async with httpx.AsyncClient() as http:
        await http.post(f"{standin.url}/_standin/messages", json=[
            {"property_id": PROPERTY, "conversation_id": "c-1", "content": "Is there parking?",
             "reservation_id": "4105000001"},
            {"property_id": "1111111", "conversation_id": "c-2", "content": "not ours"}])
    batch = await client.latest_messages(ACCOUNT)
    assert [m["content"] for m in batch.messages] == ["Is there parking?"]
    assert batch.messages[0]["sender"]["metadata"]["participant_type"] == "GUEST"
    assert (await client.latest_messages(ACCOUNT)).messages == batch.messages
    await client.confirm_messages(ACCOUNT, batch)
    assert (await client.latest_messages(ACCOUNT)).messages == []
    message_id = await client.reply(ACCOUNT, "c-1", "Yes, free parking.")
    assert [(r["conversation_id"], r["content"], r["message_id"])
            for r in standin.state.replies] == [("c-1", "Yes, free parking.", message_id)]


async def test_a_queued_fault_fails_the_next_acknowledgement_only(
        standin: RunningStandin, client: BookingComClient) -> None:
    await queue(standin, reservation_id="4105000005")
    async with httpx.AsyncClient() as http:
        await http.post(f"{standin.url}/_standin/faults", json={
            "path": "/hotels/ota/OTA_HotelResNotif", "method": "POST", "status": 503})
    ack = acknowledgement("OTA_HotelResNotif", ["4105000005"])
    with pytest.raises(SendError) as failed:
        await client.acknowledge(ACCOUNT, "OTA_HotelResNotif", ack)
    assert failed.value.kind == "transient"
    assert len(parse_feed(await client.reservations(ACCOUNT, "OTA_HotelResNotif"),
                          "OTA_HotelResNotif")) == 1
    await client.acknowledge(ACCOUNT, "OTA_HotelResNotif", ack)
    assert standin.state.pending == []


async def test_the_client_can_use_exchanged_tokens_and_exchanges_again_when_refused(
        standin: RunningStandin) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        client = BookingComClient(http, standin.url, standin.url, auth_url=standin.url)
        await client.reservations(ACCOUNT, "OTA_HotelResNotif")
        await client.latest_messages(ACCOUNT)
        exchanges = [c for c in standin.state.calls if c["path"].endswith("/exchange")]
        assert len(exchanges) == 1  # one token for both calls
        standin.state.tokens.clear()  # Booking.com revoked it
        with pytest.raises(SendError) as refused:
            await client.reservations(ACCOUNT, "OTA_HotelResNotif")
        assert refused.value.kind == "bad-token"
        await client.reservations(ACCOUNT, "OTA_HotelResNotif")  # a new token
    exchanges = [c for c in standin.state.calls if c["path"].endswith("/exchange")]
    assert len(exchanges) == 2
    assert all(c["auth_ok"] for c in standin.state.calls if c["status"] == 200)
