"""Structured JSON logs (structlog) on stdout, each line with the socket's `tenant` and the
frame's `trace_id` once known; standard-library records are rendered the same way."""

from __future__ import annotations

import logging
import sys

import structlog
from structlog.typing import Processor

SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure_logging(level: str = "INFO") -> None:
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*SHARED, structlog.stdlib.ExtraAdder()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    structlog.processors.JSONRenderer()])
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # One line per failed handshake of a scanner is noise; errors still show.
    logging.getLogger("websockets").setLevel(logging.WARNING)
    # aiokafka lists every assigned topic at info on each change: hundreds of names.
    logging.getLogger("aiokafka.consumer.subscription_state").setLevel(logging.WARNING)
