"""`python -m simptu.runtime.api`: serve the API with uvicorn on SIMPTU_API_HOST:SIMPTU_API_PORT."""

from __future__ import annotations

import uvicorn

from simptu.runtime.api.app import create_app
from simptu.runtime.api.logs import configure_logging
from simptu.runtime.api.settings import ApiSettings
from simptu.runtime.core import entrypoint


def main(argv: list[str] | None = None) -> None:
    entrypoint.parser(
        "python -m simptu.runtime.api",
        "The Simptu HTTP API (FastAPI on uvicorn): tenants' customers, staff and admins, "
        "webhooks of the channels' providers; serves on SIMPTU_API_HOST:SIMPTU_API_PORT until "
        "stopped.", ApiSettings).parse_args(argv)
    settings = ApiSettings()  # type: ignore[call-arg]  # read from the environment
    configure_logging(settings.api_log_level)
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port,
                log_config=None, access_log=False, proxy_headers=True,
                # Named, not "auto": a missing one fails the start instead of silently costing
                # 40% more CPU per request (h11) or 10% (the asyncio loop).
                loop="uvloop", http="httptools",
                # A failing start-up (no database, no Kafka) stops the process.
                lifespan="on")


if __name__ == "__main__":
    main()
