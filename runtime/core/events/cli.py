"""`python -m simptu.runtime.core.events relay`: run the outbox relay until SIGTERM/SIGINT
(settings from `SIMPTU_*` and `SIMPTU_OUTBOX_*`; for the local stack: eval "$(make -s env)")."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from prometheus_client import start_http_server

from simptu.runtime.core.database import create_pool
from simptu.runtime.core.events.producer import EventProducer
from simptu.runtime.core.events.relay import OutboxRelay
from simptu.runtime.core.events.settings import OutboxRelaySettings
from simptu.runtime.core.settings import CoreSettings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simptu.runtime.core.events",
        description="The event bus's processes. Connection settings come from the environment "
        "(SIMPTU_DATABASE_URL, SIMPTU_KAFKA_BOOTSTRAP, ...); relay tuning from SIMPTU_OUTBOX_* "
        "(BATCH_SIZE, POLL_INTERVAL, PUBLISH_TIMEOUT, MAX_CONCURRENT_TENANTS, LISTEN, "
        "LISTEN_DATABASE_URL).")
    commands = parser.add_subparsers(dest="command", required=True)
    relay = commands.add_parser(
        "relay", help="publish every Ready or Suspended tenant's outbox to Kafka, woken by "
        "NOTIFY with polling as a fallback; safe to run as several replicas and to kill")
    relay.add_argument("--metrics-port", type=int, default=None,
                       help="serve Prometheus metrics on this port")
    return parser


def _listen_dsn(core: CoreSettings, outbox: OutboxRelaySettings) -> str | None:
    if not outbox.listen:
        return None
    chosen = outbox.listen_database_url or core.database_url
    return chosen.get_secret_value()


async def run_relay(core: CoreSettings, outbox: OutboxRelaySettings) -> int:
    pool = await create_pool(core)
    try:
        # No linger: a batch of rows is handed over at once anyway, and a live chat message
        # should not wait 5 ms for company.
        async with EventProducer(core.kafka_bootstrap, client_id="simptu-outbox-relay",
                                 timeout=outbox.publish_timeout, linger_ms=0) as producer:
            relay = OutboxRelay(pool, producer, outbox, _listen_dsn(core, outbox))
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, relay.stop)
            logging.getLogger(__name__).info("outbox relay started")
            await relay.run()
    finally:
        await pool.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    core = CoreSettings()  # type: ignore[call-arg]  # filled from the environment
    outbox = OutboxRelaySettings()
    if args.metrics_port is not None:
        start_http_server(args.metrics_port)
    if args.command == "relay":
        return asyncio.run(run_relay(core, outbox))
    return 2
