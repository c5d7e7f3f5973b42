"""The re-encryption job: after a data key rotation, re-seal a table's sealed columns with the
new version, in batches, resumable, reporting progress.

Each batch is one transaction that locks the job row, takes the next rows still sealed under
an older version (keyset pagination on `id`), re-seals them and records the new position, so a
job killed at any point resumes after its last committed batch and never re-seals a row twice.
A pass that ends starts another from the first row; the job is done when a whole pass finds
nothing left (rows written with an old key while the job ran are caught by the next pass).
"""

from __future__ import annotations

import asyncio
import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import asyncpg

from simptu.runtime.core.crypto.datakeys import current_data_key_version
from simptu.runtime.core.crypto.keyring import KeyRing
from simptu.runtime.core.crypto.sealing import sealed_key_version
from simptu.runtime.core.database import TenantUnitOfWork, quote_ident
from simptu.runtime.core.tenancy import TenantNames

# The sealed columns of each tenant table; a migration that adds one must add it here.
SEALED_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("name", "phone", "email", "notes"),
}
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class ReencryptionProgress:
    job_id: int
    table: str
    target_key_version: int
    batches: int
    rows_resealed: int
    fields_resealed: int
    done: bool


ProgressReport = Callable[[ReencryptionProgress], None]


@dataclass(frozen=True)
class _Job:
    """A job's fixed parameters and the SQL they give."""

    id: int
    table: str
    columns: tuple[str, ...]
    target: int
    id_type: str

    def stale(self, column: str) -> str:
        # Bytes 2..5 of a sealed value are its key version, big-endian: they compare as numbers.
        return f"({quote_ident(column)} IS NOT NULL AND substring({quote_ident(column)} " \
               "FROM 2 FOR 4) < $1)"

    def next_rows(self, after_cursor: bool) -> str:
        stale = " OR ".join(self.stale(c) for c in self.columns)
        after = f"id > CAST($3::text AS {self.id_type}) AND " if after_cursor else ""
        cols = ", ".join(quote_ident(c) for c in self.columns)
        return (f"SELECT id, id::text AS cursor, {cols} FROM {quote_ident(self.table)} "  # noqa: S608 - checked identifiers
                f"WHERE {after}({stale}) ORDER BY id LIMIT $2 FOR UPDATE")

    def update_row(self) -> str:
        sets = ", ".join(f"{quote_ident(c)} = ${i}" for i, c in enumerate(self.columns, 2))
        return f"UPDATE {quote_ident(self.table)} SET {sets} WHERE id = $1"  # noqa: S608


def _checked(table: str, columns: Sequence[str]) -> tuple[str, ...]:
    for name in (table, *columns):
        if not IDENTIFIER.fullmatch(name):
            raise ValueError(f"{name!r} is not a plain lowercase SQL identifier")
    if not columns:
        raise ValueError("name at least one sealed column to re-encrypt")
    return tuple(sorted(set(columns)))


def _progress(job: _Job, row: asyncpg.Record) -> ReencryptionProgress:
    return ReencryptionProgress(job.id, job.table, job.target, row["batches"],
                                row["rows_resealed"], row["fields_resealed"],
                                row["status"] == "done")


async def _open_job(conn: asyncpg.Connection, tenant: TenantNames, table: str,
                    columns: tuple[str, ...]) -> _Job:
    """The job moving `table.columns` to the current data key: the running one, or a new one."""
    target = await current_data_key_version(conn, tenant)
    await conn.execute(
        "INSERT INTO reencryption_jobs (table_name, columns, target_key_version) "
        "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", table, list(columns), target)
    job_id = await conn.fetchval(
        "SELECT id FROM reencryption_jobs WHERE table_name = $1 AND columns = $2 "
        "AND target_key_version = $3", table, list(columns), target)
    id_type = await conn.fetchval(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = $1::regclass AND attname = 'id'", table)
    if id_type is None:
        raise ValueError(f"table {table!r} has no id column to page through")
    return _Job(job_id, table, columns, target, id_type)


async def _reseal_rows(conn: asyncpg.Connection, ring: KeyRing, tenant: TenantNames, job: _Job,
                       rows: list[asyncpg.Record]) -> int:
    """Re-seal the stale fields of `rows` in place; returns how many fields changed."""
    cipher = ring.cipher(tenant, conn)
    changed, updates = 0, []
    for row in rows:
        values = []
        for column in job.columns:
            sealed = row[column]
            if sealed is not None and sealed_key_version(sealed) < job.target:
                sealed = await cipher.reseal(job.table, column, row["id"], sealed, job.target)
                changed += 1
            values.append(sealed)
        updates.append((row["id"], *values))
    await conn.executemany(job.update_row(), updates)
    return changed


async def _run_batch(pool: asyncpg.Pool, ring: KeyRing, tenant: TenantNames, job: _Job,
                     batch_size: int) -> ReencryptionProgress:
    async with TenantUnitOfWork(pool, tenant) as conn:
        state = await conn.fetchrow("SELECT * FROM reencryption_jobs WHERE id = $1 FOR UPDATE",
                                    job.id)
        if state["status"] == "done":
            return _progress(job, state)
        cursor = state["last_row_id"]
        target = struct.pack(">I", job.target)
        args = (target, batch_size, cursor) if cursor is not None else (target, batch_size)
        rows = await conn.fetch(job.next_rows(cursor is not None), *args)
        if not rows:
            # End of a pass: done if it started from the first row, otherwise one more pass.
            state = await conn.fetchrow(
                "UPDATE reencryption_jobs SET last_row_id = NULL, updated_at = now(), "
                "status = CASE WHEN $2 THEN 'done' ELSE status END, "
                "finished_at = CASE WHEN $2 THEN now() END WHERE id = $1 RETURNING *",
                job.id, cursor is None)
            return _progress(job, state)
        fields = await _reseal_rows(conn, ring, tenant, job, rows)
        state = await conn.fetchrow(
            "UPDATE reencryption_jobs SET last_row_id = $2, batches = batches + 1, "
            "rows_resealed = rows_resealed + $3, fields_resealed = fields_resealed + $4, "
            "updated_at = now() WHERE id = $1 RETURNING *",
            job.id, rows[-1]["cursor"], len(rows), fields)
        return _progress(job, state)


async def reencrypt_table(pool: asyncpg.Pool, ring: KeyRing, tenant: TenantNames, table: str,
                          columns: Sequence[str] | None = None, *, batch_size: int = 500,
                          progress: ProgressReport | None = None,
                          pause: float = 0.0) -> ReencryptionProgress:
    """Move every sealed field of `table` to the tenant's current data key; safe to run again
    or concurrently (a finished job returns at once). `pause` seconds between batches
    throttle the load on the database."""
    checked = _checked(table, columns if columns is not None else SEALED_COLUMNS[table])
    async with TenantUnitOfWork(pool, tenant) as conn:
        job = await _open_job(conn, tenant, table, checked)
    while True:
        state = await _run_batch(pool, ring, tenant, job, batch_size)
        if progress is not None:
            progress(state)
        if state.done:
            return state
        if pause:
            await asyncio.sleep(pause)
