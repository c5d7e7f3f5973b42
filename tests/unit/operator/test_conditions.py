"""Status conditions follow the Kubernetes conventions and summarise into Ready."""

from __future__ import annotations

from typing import Any

from simptu.operator.conditions import PARTS, is_true, set_condition, summarise


def test_transition_time_moves_only_when_the_status_changes() -> None:
    conditions = set_condition([], "DatabaseReady", "False", "Provisioning", "creating", 1,
                               at="2026-11-23T10:00:00Z")
    same = set_condition(conditions, "DatabaseReady", "False", "Migrating", "migrating", 2,
                         at="2026-11-23T10:05:00Z")
    flipped = set_condition(same, "DatabaseReady", "True", "Ready", "schema at 3", 2,
                            at="2026-11-23T10:06:00Z")
    assert same[0]["lastTransitionTime"] == "2026-11-23T10:00:00Z"
    assert same[0]["reason"] == "Migrating"
    assert same[0]["observedGeneration"] == 2
    assert flipped[0]["lastTransitionTime"] == "2026-11-23T10:06:00Z"
    assert len(flipped) == 1


def test_ready_only_when_every_part_is_true() -> None:
    conditions: list[dict[str, Any]] = []
    for part in PARTS:
        conditions = set_condition(conditions, part, "True", "Ready", "ok", 1)
    assert is_true(summarise(conditions, 1), "Ready")
    broken = set_condition(conditions, "TopicsReady", "False", "KafkaUnavailable",
                           "broker 127.0.0.1:59092 refused the connection", 1)
    ready = next(c for c in summarise(broken, 1) if c["type"] == "Ready")
    assert ready["status"] == "False"
    assert ready["reason"] == "TopicsNotReady"
    assert ready["message"] == "TopicsReady: broker 127.0.0.1:59092 refused the connection"


def test_a_part_not_checked_yet_keeps_ready_false() -> None:
    ready = next(c for c in summarise([], 1) if c["type"] == "Ready")
    assert ready["status"] == "False"
    assert ready["message"] == "DatabaseReady not checked yet"
