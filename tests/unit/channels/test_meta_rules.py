"""The Meta adapter's own rules, without the stack: reading deliveries, cutting replies to a
channel's limit, the 24-hour window and what each of Meta's error codes means."""

from __future__ import annotations

import datetime as dt

import pytest

from simptu.devstack.standins.meta_payloads import (
    instagram_echo,
    messenger_message,
    whatsapp_image,
    whatsapp_location,
    whatsapp_reaction,
    whatsapp_status,
    whatsapp_text,
)
from simptu.runtime.channels.meta.graph import _kind
from simptu.runtime.channels.meta.payloads import MalformedDelivery, parse
from simptu.runtime.channels.meta.signature import sign, verifies
from simptu.runtime.channels.sender import Refusal, human_agent_tag
from simptu.runtime.channels.text_parts import split_text, utf8_bytes

pytestmark = pytest.mark.unit


def test_whatsapp_messages_and_statuses_are_read_with_their_account() -> None:
    text = parse(whatsapp_text("1048", "40722000111", "Bună 🙂", at=1_790_000_000))
    [message] = text.messages
    assert (message.channel, message.account_id, message.sender, message.text) == (
        "whatsapp", "1048", "40722000111", "Bună 🙂")
    assert message.at == dt.datetime.fromtimestamp(1_790_000_000, dt.UTC)
    status = parse(whatsapp_status("1048", "wamid.X", "failed", "40722000111",
                                   errors=[{"code": 131047, "title": "Re-engagement message"}]))
    assert [(s.provider_message_id, s.status, s.error_code) for s in status.statuses] == [
        ("wamid.X", "failed", "131047")]
    assert status.accounts == {("whatsapp", "1048")}


def test_other_kinds_become_readable_placeholders_and_echoes_are_left_out() -> None:
    texts = [parse(payload).messages[0].text for payload in (
        whatsapp_image("1", "407", caption="radiografie"),
        whatsapp_location("1", "407", 46.77, 23.59, name="Cabinet"),
        whatsapp_reaction("1", "407", "wamid.Y", "👍"))]
    assert texts == ["[image: radiografie]", "[location: 46.77, 23.59 — Cabinet]",
                     "[reaction 👍]"]
    echo = parse(instagram_echo("17841", "555", "our own send"))
    assert echo.messages == []
    assert echo.accounts == {("instagram", "17841")}
    assert parse(messenger_message("100", "555", "Salut")).messages[0].channel == "messenger"


@pytest.mark.parametrize("body", [{}, {"object": "page"}, {"object": "user", "entry": []},
                                  {"object": "page", "entry": [{"messaging": [{}]}]}])
def test_what_is_not_a_delivery_is_refused_by_name(body: object) -> None:
    with pytest.raises(MalformedDelivery):
        parse(body)


def test_signatures_are_over_the_bytes_and_compared_whole() -> None:
    body = '{"text":"Bună"}'.encode()
    assert verifies("secret", body, sign("secret", body))
    assert verifies("secret", body, sign("secret", body).upper().replace("SHA256", "sha256"))
    assert not verifies("secret", body + b" ", sign("secret", body))
    assert not verifies("", body, sign("", body))  # no secret: nothing verifies
    assert not verifies("secret", body, None)


def test_replies_are_cut_between_sentences_within_each_limit() -> None:
    text = "Prima propoziție e aici. " * 200
    parts = split_text(text, 1000, utf8_bytes)
    assert all(utf8_bytes(part) <= 1000 for part in parts)
    assert all(part.endswith("aici.") for part in parts)
    assert " ".join(parts) == text.strip()
    assert split_text("scurt", 2000) == ["scurt"]
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_the_window_lets_staff_but_not_the_bot_answer_late_on_messenger() -> None:
    hours = dt.timedelta(hours=1)
    assert human_agent_tag("whatsapp", "agent", 23 * hours) is False
    assert human_agent_tag("messenger", "staff", 30 * hours) is True
    for channel, author, since in (("messenger", "agent", 30 * hours),
                                   ("whatsapp", "staff", 30 * hours),
                                   ("instagram", "staff", 8 * 24 * hours)):
        with pytest.raises(Refusal):
            human_agent_tag(channel, author, since)


@pytest.mark.parametrize(("code", "status", "kind"), [
    (130429, 400, "throttled"), (131056, 400, "throttled"), (0, 429, "throttled"),
    (131047, 400, "window-closed"), (10, 400, "window-closed"), (190, 401, "bad-token"),
    (131026, 400, "permanent"), (2, 500, "transient"), (0, 503, "transient")])
def test_each_error_code_says_what_to_do(code: int, status: int, kind: str) -> None:
    assert _kind(code, status) == kind
