"""Which pushes are parts of a reply that must reach a conversation once (first_pushes)."""

from __future__ import annotations

import pytest

from simptu.runtime.ws.first_pushes import claim_key, part_of

pytestmark = pytest.mark.unit
MESSAGE = "0b7e6a52-3d7c-4b8e-9a57-2f0b1c7d9e11"


def test_a_delta_is_its_message_and_seq_and_the_reply_its_message() -> None:
    assert part_of("reply_delta", {"message_id": MESSAGE, "seq": 3, "delta": "Bună"}) == (
        f"{MESSAGE}:3")
    assert part_of("reply", {"message_id": MESSAGE, "text": "Bună ziua"}) == f"{MESSAGE}:reply"
    assert part_of("reply_delta", {"message_id": MESSAGE, "seq": 3}) != part_of(
        "reply_delta", {"message_id": MESSAGE, "seq": 4})


def test_a_posted_message_is_its_message_whoever_wrote_it() -> None:
    posted = {"message_id": MESSAGE, "seq": 4, "author": "staff", "text": "Bună ziua"}
    assert part_of("message", posted) == f"{MESSAGE}:message"
    assert part_of("message", posted) != part_of("reply", {"message_id": MESSAGE})


def test_typing_and_function_calls_may_repeat() -> None:
    assert part_of("typing", {"typing": True}) is None
    assert part_of("function_call", {"call_id": "c1", "name": "x", "arguments": {}}) is None


def test_claims_are_kept_under_the_tenant_so_its_deletion_purges_them() -> None:
    assert claim_key("zambet", "s1", f"{MESSAGE}:3") == f"simptu:ws:first:{{zambet}}:s1:{MESSAGE}:3"
