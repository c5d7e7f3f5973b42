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
