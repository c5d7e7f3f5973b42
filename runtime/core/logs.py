"""Structured JSON logs on stdout for every runtime: structlog's loggers and the standard
library's records (uvicorn, aiokafka, our core modules) rendered alike, each line with the
context a request, frame or event bound (`tenant`, `trace_id`, ...) and any `extra` fields."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

import structlog
from structlog.typing import Processor

SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure_json_logging(level: str = "INFO", *, quiet: Iterable[str] = ()) -> None:
    """JSON lines from `level` up; the loggers named in `quiet` only from WARNING up."""
    structlog.configure(
        processors=[*SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True)
    formatter = structlog.stdlib.ProcessorFormatter(
        # `extra={"tenant": ...}` of standard-library records becomes a field.
        foreign_pre_chain=[*SHARED, structlog.stdlib.ExtraAdder()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    structlog.processors.JSONRenderer()])
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in quiet:
        logging.getLogger(name).setLevel(logging.WARNING)
