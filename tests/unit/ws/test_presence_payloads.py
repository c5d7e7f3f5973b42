"""Presence payloads in the shape phoenix.js `Presence.syncState`/`syncDiff` read:
`{key: {"metas": [{"phx_ref": ...}]}}`, and diffs of joins and leaves."""

from __future__ import annotations

from simptu.runtime.ws.presence import Entry, diff, state_of


def _entry(key: str, ref: str, role: str = "staff") -> Entry:
    return Entry(key, {"phx_ref": ref, "role": role}, "replica-1")


def test_a_state_groups_the_joins_of_one_key_into_its_metas() -> None:
    state = state_of([_entry("ana", "r1"), _entry("ana", "r2"), _entry("guest:1", "r3", "guest")])
    assert state == {
        "ana": {"metas": [{"phx_ref": "r1", "role": "staff"}, {"phx_ref": "r2", "role": "staff"}]},
        "guest:1": {"metas": [{"phx_ref": "r3", "role": "guest"}]},
    }


def test_a_diff_names_joins_and_leaves_separately() -> None:
    assert diff([_entry("ana", "r2")], [_entry("ana", "r1")]) == {
        "joins": {"ana": {"metas": [{"phx_ref": "r2", "role": "staff"}]}},
        "leaves": {"ana": {"metas": [{"phx_ref": "r1", "role": "staff"}]}},
    }


def test_nobody_present_is_an_empty_state() -> None:
    assert state_of([]) == {}
    assert diff([], []) == {"joins": {}, "leaves": {}}
