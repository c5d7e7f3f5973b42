"""`python -m simptu.runtime.agent --tenant SLUG | --all`: run the agent worker until
SIGTERM/SIGINT (settings from `SIMPTU_*` and `SIMPTU_AGENT_*`; locally: eval "$(make -s env)")."""

from __future__ import annotations

import argparse
import asyncio

from simptu.runtime.agent.settings import AgentSettings
from simptu.runtime.agent.worker import AgentWorker
from simptu.runtime.core import entrypoint
from simptu.runtime.core.health_server import serve_until_stopped
from simptu.runtime.core.logs import configure_json_logging


def _parser() -> argparse.ArgumentParser:
    parser = entrypoint.parser(
        "python -m simptu.runtime.agent",
        "The Simptu agent: answers customers from the tenants' inbound topics and "
        "streams replies to their outbound topics. Connections come from SIMPTU_* (e.g. "
        "SIMPTU_DATABASE_URL, SIMPTU_KAFKA_BOOTSTRAP), worker settings from SIMPTU_AGENT_* "
        "(PORT, GROUP_ID, SKIP_TENANTS, ...).", AgentSettings)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--tenant", metavar="SLUG",
                       help="serve this tenant only (what a tenant's Deployment runs); "
                       "default: $SIMPTU_AGENT_TENANT")
    which.add_argument("--all", action="store_true",
                       help="serve every Ready tenant, including ones created later (local)")
    parser.add_argument("--port", type=int, default=None,
                        help="health and metrics port (default: $SIMPTU_AGENT_PORT or 8080)")
    return parser


async def serve(settings: AgentSettings, tenant: str | None) -> int:
    worker = AgentWorker(settings, tenant)
    await serve_until_stopped(lambda: worker.ready, settings.agent_host, settings.agent_port,
                              worker.stop, worker.run, worker.checks)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    overrides = {"agent_port": args.port} if args.port is not None else {}
    settings = AgentSettings(**overrides)  # the rest from the environment
    tenant = args.tenant or settings.agent_tenant
    if not args.all and not tenant:
        _parser().error("name a tenant (--tenant SLUG) or serve them all (--all)")
    configure_json_logging(settings.agent_log_level)
    return asyncio.run(serve(settings, None if args.all else tenant))
