"""The API's logs: JSON lines (runtime/core/logs) where every line carries the request's
`trace_id` and, once it is known, its `tenant`; uvicorn's records are rendered the same way."""

from __future__ import annotations

import logging

from simptu.runtime.core.logs import configure_json_logging


def configure_logging(level: str = "INFO") -> None:
    configure_json_logging(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Every request is logged once by our middleware, with its trace id and tenant.
    logging.getLogger("uvicorn.access").disabled = True
