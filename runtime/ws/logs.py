"""The hub's logs: JSON lines (runtime/core/logs), each with the socket's `tenant` and the
frame's `trace_id` once known."""

from __future__ import annotations

from simptu.runtime.core.logs import configure_json_logging

QUIET = (
    # One line per failed handshake of a scanner is noise; errors still show.
    "websockets",
    # aiokafka lists every assigned topic at info on each change: hundreds of names.
    "aiokafka.consumer.subscription_state",
)


def configure_logging(level: str = "INFO") -> None:
    configure_json_logging(level, quiet=QUIET)
