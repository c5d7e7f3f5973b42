"""The OpenAPI schema as clients should read it: times of day without an offset (opening
hours, wall-clock times in the tenant's time zone) are `partial-time`, not `time`, which in
JSON Schema (RFC 3339 `full-time`) requires an offset that these values never carry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI


def _wall_clock_times(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "string" and node.get("format") == "time":
            node["format"] = "partial-time"
        for value in node.values():
            _wall_clock_times(value)
    elif isinstance(node, list):
        for value in node:
            _wall_clock_times(value)


def describe_wall_clock_times(app: FastAPI) -> None:
    """Make `app.openapi()` describe offset-less times as `partial-time`."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()  # built once and kept by FastAPI; rewriting it again is a no-op
        _wall_clock_times(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
