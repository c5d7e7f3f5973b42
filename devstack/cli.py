"""`simptu-devstack`: obtain the tools and run the local stack (what `make up|down|...` call)."""

from __future__ import annotations

import argparse
import logging
import sys
import time

from simptu.devstack.stack import ServiceFailed, Stack
from simptu.devstack.toolchain.progress import BuildFailed

HELP = """\
Runs the platform's real services (PostgreSQL, Redis, Kafka, etcd + kube-apiserver,
OpenBao, Keycloak) as local processes on loopback. Tools are cached in ~/.cache/simptu,
state (data, logs, certificates, credentials) in .devstack/ of the checkout.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="simptu-devstack", description=HELP)
    commands = parser.add_subparsers(dest="command", required=True)
    tools = commands.add_parser("tools", help="build or fetch the tools (cached, reused)")
    tools.add_argument("names", nargs="*", help="only these tools (default: all)")
    commands.add_parser("up", help="start every service that is not running; wait until ready")
    commands.add_parser("down", help="stop the services this stack started, by pid")
    commands.add_parser("status", help="show each service, its pid and endpoint")
    commands.add_parser("env", help="print the stack's settings as shell exports")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Probes fail until a service listens; the stack reports that itself, without client noise.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    stack = Stack()
    started = time.monotonic()
    try:
        if args.command == "tools":
            stack.ensure_tools(args.names or None)
        elif args.command == "up":
            stack.up()
            print(f"stack ready in {time.monotonic() - started:.1f}s; "
                  f"settings: {stack.ctx.settings.env_file} (eval \"$(make -s env)\")")
            for hint in filter(None, (svc.hint(stack.ctx) for svc in stack.services)):
                print(hint)
        elif args.command == "down":
            stack.down()
        elif args.command == "status":
            for name, state, endpoint in stack.status():
                print(f"{name:<24} {state:<22} {endpoint}")
        elif args.command == "env":
            print(stack.shell_exports())
    except (ServiceFailed, BuildFailed) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
