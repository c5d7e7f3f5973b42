"""`python -m simptu.runtime.core.crypto`: rotate a tenant's keys and run re-encryption jobs
(settings from `SIMPTU_*` and `BAO_*`; for the local stack: eval "$(make -s env)")."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
import redis.asyncio as aioredis

from simptu.runtime.core.crypto.errors import CryptoError
from simptu.runtime.core.crypto.keyring import KeyRing
from simptu.runtime.core.crypto.reencryption import (
    SEALED_COLUMNS,
    ReencryptionProgress,
    reencrypt_table,
)
from simptu.runtime.core.crypto.rotation import rotate_data_key, rotate_transit_key
from simptu.runtime.core.crypto.transit import OpenBaoTransit
from simptu.runtime.core.database import create_pool
from simptu.runtime.core.settings import CoreSettings
from simptu.runtime.core.tenancy import TenantNames


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simptu.runtime.core.crypto",
        description="Rotate a tenant's encryption keys and re-encrypt its rows.")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, explanation: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=explanation, description=explanation)

    transit = command("rotate-transit-key", "new transit key version, then rewrap every stored "
                      "data key (rows are not touched)")
    data = command("rotate-data-key", "new data key version for new writes, then re-encrypt "
                   f"every sealed table ({', '.join(SEALED_COLUMNS)})")
    data.add_argument("--no-reencrypt", action="store_true",
                      help="only add the version; run `reencrypt` later")
    job = command("reencrypt", "start or resume the job moving a table's sealed columns to the "
                  "current data key (idempotent; safe to kill and run again)")
    job.add_argument("--table", required=True, choices=sorted(SEALED_COLUMNS))
    job.add_argument("--columns", help="comma-separated (default: every sealed column)")
    for sub in (transit, data, job):
        sub.add_argument("--tenant", required=True, help="the tenant's slug")
    for sub in (data, job):
        sub.add_argument("--batch-size", type=int, default=500, help="rows per transaction")
        sub.add_argument("--pause", type=float, default=0.0,
                         help="seconds to wait between batches, to spare the database")
    return parser


@dataclass
class _Services:
    pool: asyncpg.Pool
    redis: aioredis.Redis
    keystore: OpenBaoTransit
    ring: KeyRing


@asynccontextmanager
async def _services(settings: CoreSettings) -> AsyncIterator[_Services]:
    pool = await create_pool(settings)
    redis = aioredis.Redis.from_url(settings.redis_url.get_secret_value())
    keystore = OpenBaoTransit.from_settings(settings)
    try:
        async with KeyRing(pool, keystore, redis) as ring:
            yield _Services(pool, redis, keystore, ring)
    finally:
        await redis.aclose()
        await pool.close()


def _report(state: ReencryptionProgress) -> None:
    status = "done" if state.done else f"batch {state.batches}"
    print(f"  {state.table} -> data key v{state.target_key_version}: {status}, "
          f"{state.rows_resealed} rows / {state.fields_resealed} fields re-sealed", flush=True)


async def _reencrypt(s: _Services, tenant: TenantNames, tables: dict[str, tuple[str, ...]],
                     batch_size: int, pause: float) -> None:
    for table, columns in tables.items():
        await reencrypt_table(s.pool, s.ring, tenant, table, columns, batch_size=batch_size,
                              progress=_report, pause=pause)


async def run(args: argparse.Namespace, settings: CoreSettings) -> int:
    tenant = TenantNames(args.tenant)
    async with _services(settings) as s:
        if args.command == "rotate-transit-key":
            async with s.pool.acquire() as conn:
                version = await rotate_transit_key(conn, s.keystore, tenant)
            print(f"{tenant.transit_key}: now at version {version}; data keys rewrapped")
        elif args.command == "rotate-data-key":
            async with s.pool.acquire() as conn:
                version = await rotate_data_key(conn, s.keystore, tenant, s.redis)
            print(f"{tenant.slug}: data key version {version} seals from now on", flush=True)
            if not args.no_reencrypt:
                await _reencrypt(s, tenant, SEALED_COLUMNS, args.batch_size, args.pause)
        else:
            columns = (tuple(args.columns.split(",")) if args.columns
                       else SEALED_COLUMNS[args.table])
            await _reencrypt(s, tenant, {args.table: columns}, args.batch_size, args.pause)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = CoreSettings()  # type: ignore[call-arg]  # filled from the environment
    try:
        return asyncio.run(run(args, settings))
    except (CryptoError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
