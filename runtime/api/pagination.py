"""Opaque cursors for list endpoints: the position after the last item of a page, as URL-safe
base64 of JSON, so clients page without offsets and a list that grows does not repeat items."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from typing import Any

from simptu.runtime.api.problems import ApiProblem

MAX_PAGE = 100


def encode_cursor(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    """The position a cursor holds; 400 for one this API did not make."""
    if cursor is None:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        value = None
    if not isinstance(value, dict):
        raise _not_ours()
    return value


def time_and_id_cursor(time: dt.datetime, item_id: uuid.UUID) -> str:
    """The cursor after an item of a list ordered by a time, then id."""
    return encode_cursor({"t": time.isoformat(), "id": item_id})


def after_time_and_id(cursor: str | None) -> tuple[dt.datetime, uuid.UUID] | None:
    """The (time, id) a `time_and_id_cursor` holds; 400 for another cursor."""
    position = decode_cursor(cursor)
    if position is None:
        return None
    try:
        return dt.datetime.fromisoformat(position["t"]), uuid.UUID(position["id"])
    except (KeyError, TypeError, ValueError):
        raise _not_ours() from None


def _not_ours() -> ApiProblem:
    return ApiProblem(400, "invalid-cursor", "the cursor is not one this API returned")
