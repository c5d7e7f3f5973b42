"""Kubernetes-convention status conditions (type, status, reason, message, observedGeneration,
lastTransitionTime), so `kubectl describe tenant` explains itself."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

# Each provisioned system has one condition; Ready summarises them.
PARTS = ("DatabaseReady", "EncryptionReady", "TopicsReady", "AuthReady", "AgentReady")
Status = Literal["True", "False", "Unknown"]


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def set_condition(conditions: list[dict[str, Any]], type_: str, status: Status, reason: str,
                  message: str, generation: int, at: str | None = None) -> list[dict[str, Any]]:
    """The conditions with `type_` set; its transition time moves only when its status does."""
    previous = next((c for c in conditions if c["type"] == type_), None)
    if previous is None or previous["status"] != status:
        transition = at or now()
    else:
        transition = previous["lastTransitionTime"]
    condition = {"type": type_, "status": status, "reason": reason, "message": message,
                 "observedGeneration": generation, "lastTransitionTime": transition}
    return [c for c in conditions if c["type"] != type_] + [condition]


def summarise(conditions: list[dict[str, Any]], generation: int,
              at: str | None = None) -> list[dict[str, Any]]:
    """Set `Ready` from the parts: True only when every part is True."""
    by_type = {c["type"]: c for c in conditions}
    failing = [t for t in PARTS if by_type.get(t, {}).get("status") != "True"]
    if not failing:
        return set_condition(conditions, "Ready", "True", "Provisioned",
                             "Every part of the tenant is provisioned and healthy", generation, at)
    first = by_type.get(failing[0])
    message = f"{failing[0]}: {first['message']}" if first else f"{failing[0]} not checked yet"
    return set_condition(conditions, "Ready", "False", f"{failing[0].removesuffix('Ready')}"
                         "NotReady", message, generation, at)


def is_true(conditions: list[dict[str, Any]], type_: str) -> bool:
    return any(c["type"] == type_ and c["status"] == "True" for c in conditions)


# Reasons of a False part that heals without a human (a service away, pods starting).
HEALING_REASONS = ("Unavailable", "InProgress")


def progress(conditions: list[dict[str, Any]], generation: int, failed: list[str],
             permanent: bool, at: str | None = None) -> list[dict[str, Any]]:
    """kstatus' Reconciling and Stalled (Flux, kpt and cli-utils read these, not Ready):
    Stalled while a failed part needs a human (or the failure is permanent), Reconciling while
    every failed part heals by itself, both False once the generation is applied."""
    by_type = {c["type"]: c for c in conditions}
    stalled: tuple[Status, str, str]
    reconciling: tuple[Status, str, str]
    stuck = [t for t in failed if permanent or by_type[t]["reason"] not in HEALING_REASONS]
    if stuck:
        first = by_type[stuck[0]]
        stalled = ("True", first["reason"], f"{stuck[0]}: {first['message']}")
        reconciling = ("False", "Stalled", "A human must act: see the Stalled condition")
    elif failed:
        first = by_type[failed[0]]
        stalled = ("False", "Retrying", "Every problem heals by itself; the operator retries")
        reconciling = ("True", first["reason"], f"{failed[0]}: {first['message']}")
    else:
        done = f"Generation {generation} is applied"
        stalled, reconciling = ("False", "Reconciled", done), ("False", "Reconciled", done)
    for type_, (status, reason, message) in (("Reconciling", reconciling), ("Stalled", stalled)):
        conditions = set_condition(conditions, type_, status, reason, message, generation, at)
    return conditions
