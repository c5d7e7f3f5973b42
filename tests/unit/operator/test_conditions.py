"""Status conditions follow the Kubernetes conventions and summarise into Ready."""

from __future__ import annotations

from typing import Any

from simptu.operator.conditions import PARTS, is_true, progress, set_condition, summarise


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


def _by_type(conditions: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in conditions}


def test_a_part_that_heals_by_itself_is_reconciling_not_stalled() -> None:
    waiting = set_condition([], "AgentReady", "False", "InProgress", "0/1 agent replicas ready", 3)
    found = _by_type(progress(waiting, 3, ["AgentReady"], permanent=False))
    assert found["Reconciling"]["status"] == "True"
    assert found["Reconciling"]["reason"] == "InProgress"
    assert found["Reconciling"]["message"] == "AgentReady: 0/1 agent replicas ready"
    assert found["Stalled"]["status"] == "False"
    assert found["Stalled"]["observedGeneration"] == 3


def test_a_part_that_needs_a_human_is_stalled() -> None:
    away = set_condition([], "TopicsReady", "False", "Unavailable", "Kafka refused", 1)
    missing = set_condition(away, "AgentReady", "False", "NeedsAttention",
                            "Secret llm not found in namespace tenant-x", 1)
    found = _by_type(progress(missing, 1, ["TopicsReady", "AgentReady"], permanent=False))
    assert found["Stalled"]["status"] == "True"
    assert found["Stalled"]["reason"] == "NeedsAttention"
    assert found["Stalled"]["message"] == "AgentReady: Secret llm not found in namespace tenant-x"
    assert found["Reconciling"]["status"] == "False"


def test_a_permanent_failure_is_stalled_whatever_its_reason() -> None:
    invalid = set_condition([], "Ready", "False", "InvalidSpec", "timezone Mars/Olympus_Mons", 2)
    found = _by_type(progress(invalid, 2, ["Ready"], permanent=True))
    assert found["Stalled"]["status"] == "True"
    assert found["Stalled"]["reason"] == "InvalidSpec"


def test_an_applied_generation_is_neither_reconciling_nor_stalled() -> None:
    found = _by_type(progress([], 4, [], permanent=False))
    assert (found["Reconciling"]["status"], found["Stalled"]["status"]) == ("False", "False")
    assert found["Reconciling"]["message"] == "Generation 4 is applied"
