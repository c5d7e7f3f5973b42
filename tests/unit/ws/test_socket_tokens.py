"""Where a socket's token comes from: `params.token` in the URL, or the bearer subprotocol that
phoenix.js 1.8 sends for `authToken` (base64 without padding)."""

from __future__ import annotations

import base64

from simptu.runtime.ws.identity import Participant, token_of

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"


def _bearer(token: str) -> str:
    return "base64url.bearer.phx." + base64.b64encode(token.encode()).decode().rstrip("=")


def test_the_token_query_parameter_is_the_token() -> None:
    assert token_of(f"/socket/websocket?token={TOKEN}&vsn=2.0.0", []) == TOKEN


def test_the_bearer_subprotocol_carries_the_token_base64_encoded() -> None:
    assert token_of("/socket/websocket?vsn=2.0.0", ["phoenix", _bearer(TOKEN)]) == TOKEN


def test_a_bearer_subprotocol_that_is_not_base64_gives_no_token() -> None:
    assert token_of("/socket/websocket", ["phoenix", "base64url.bearer.phx.%%%"]) is None


def test_no_token_anywhere_is_none() -> None:
    assert token_of("/socket/websocket?vsn=2.0.0", ["phoenix"]) is None


def test_presence_names_a_participant_by_its_strongest_role() -> None:
    assert Participant("t", "s", frozenset({"staff", "customer"})).role == "staff"
    assert Participant("t", "s", frozenset({"tenant-admin", "staff"})).role == "tenant-admin"
    assert Participant("t", "s", frozenset()).role == "none"
