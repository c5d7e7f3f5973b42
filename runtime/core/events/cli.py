"""`python -m simptu.runtime.core.events relay`: run the outbox relay until SIGTERM/SIGINT
(settings from `SIMPTU_*` and `SIMPTU_OUTBOX_*`; for the local stack: eval "$(make -s env)")."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from prometheus_client import start_http_server

from simptu.runtime.core import entrypoint
from simptu.runtime.core.events.relay import OutboxRelay
from simptu.runtime.core.events.settings import OutboxRelaySettings
from simptu.runtime.core.wiring import open_core


def _parser() -> argparse.ArgumentParser:
    parser = entrypoint.parser(
        "python -m simptu.runtime.core.events",
        "The event bus's processes. Connection settings come from the environment "
        "(SIMPTU_DATABASE_URL, SIMPTU_KAFKA_BOOTSTRAP, ...); relay tuning from SIMPTU_OUTBOX_* "
        "(BATCH_SIZE, POLL_INTERVAL, PUBLISH_TIMEOUT, MAX_CONCURRENT_TENANTS, TENANTS, "
        "SKIP_TENANTS, LISTEN, LISTEN_DATABASE_URL).", OutboxRelaySettings)
    commands = parser.add_subparsers(dest="command", required=True)
    relay = commands.add_parser(
        "relay", help="publish every Ready or Suspended tenant's outbox to Kafka, woken by "
        "NOTIFY with polling as a fallback; safe to run as several replicas and to kill")
    relay.add_argument("--metrics-port", type=int, default=None,
                       help="serve Prometheus metrics on this port")
    return parser


async def run_relay(settings: OutboxRelaySettings) -> int:
    # No linger: a batch of rows is handed over at once anyway, and a live chat message
    # should not wait 5 ms for company.
    async with open_core(settings, client_id="simptu-outbox-relay", linger_ms=0,
                         publish_timeout=settings.outbox_publish_timeout) as core:
        relay = OutboxRelay(core.pool, core.producer, settings, settings.listen_dsn())
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, relay.stop)
        logging.getLogger(__name__).info("outbox relay started")
        await relay.run()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = OutboxRelaySettings()  # type: ignore[call-arg]  # filled from the environment
    if args.metrics_port is not None:
        start_http_server(args.metrics_port)
    if args.command == "relay":
        return asyncio.run(run_relay(settings))
    return 2
