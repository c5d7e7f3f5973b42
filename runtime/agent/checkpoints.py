"""Conversation checkpoints in the tenant's own schema (tables of tenant migration 0009, which
copies langgraph-checkpoint-postgres's schema: tests/integration/agent/test_checkpoint_tables.py
fails when the installed saver's migrations differ), written through a connection that acts
as the tenant's role, with every blob sealed by the tenant's data key (AES-256-GCM, the same
sealed format as the tenant's other fields).

LangGraph serialises synchronously; the tenant's keys are loaded asynchronously from the key
ring, so `CheckpointSealer.refresh` is awaited before each turn, and a checkpoint sealed with a
key version not yet loaded raises `KeyVersionNeeded`: the turn loads it and runs again."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.serde.base import CipherProtocol
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from simptu.runtime.core.crypto import KeyRing
from simptu.runtime.core.crypto.sealing import (
    FieldAddress,
    open_field,
    seal_field,
    sealed_key_version,
)
from simptu.runtime.core.tenancy import TenantNames

CIPHER_NAME = "simptu-aesgcm"
# Sealed values are bound to this (table, column, row) of the tenant: a blob copied into
# another tenant's checkpoints, or into any other field, does not open.
CHECKPOINT_TABLE, CHECKPOINT_COLUMN, CHECKPOINT_ROW = "checkpoint_blobs", "blob", "langgraph"


class KeyVersionNeeded(LookupError):
    def __init__(self, version: int) -> None:
        super().__init__(f"checkpoint sealed with data key version {version}, not loaded yet")
        self.version = version


class CheckpointSealer(CipherProtocol):
    """LangGraph's cipher interface over one tenant's data keys."""

    def __init__(self, ring: KeyRing, tenant: TenantNames) -> None:
        self.ring = ring
        self.tenant = tenant
        self.address = FieldAddress.of(tenant.slug, CHECKPOINT_TABLE, CHECKPOINT_COLUMN,
                                       CHECKPOINT_ROW)
        self._sealing: tuple[int, AESGCM] | None = None
        self._opening: dict[int, AESGCM] = {}

    async def refresh(self, also_version: int | None = None) -> None:
        """Take the current data key (after a rotation: the new one), and `also_version`."""
        version, key = await self.ring.sealing_key(self.tenant)
        self._sealing = (version, key)
        self._opening[version] = key
        if also_version is not None:
            self._opening[also_version] = await self.ring.opening_key(self.tenant, also_version)

    def encrypt(self, plaintext: bytes) -> tuple[str, bytes]:
        if self._sealing is None:
            raise RuntimeError("CheckpointSealer.refresh() was not awaited before the turn")
        version, key = self._sealing
        return CIPHER_NAME, seal_field(key, version, self.address, plaintext)

    def decrypt(self, ciphername: str, ciphertext: bytes) -> bytes:
        if ciphername != CIPHER_NAME:
            raise ValueError(f"checkpoint sealed with unknown cipher {ciphername!r}")
        version = sealed_key_version(ciphertext)
        key = self._opening.get(version)
        if key is None:
            raise KeyVersionNeeded(version)
        return open_field(key, self.address, ciphertext)


async def _act_as_tenant(conn: AsyncConnection[Any], tenant: TenantNames) -> None:
    """A checkpoint connection is the tenant's for its whole life (a direct connection, not
    through a transaction-mode pooler: the saver runs in autocommit)."""
    await conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(tenant.role)))
    await conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(tenant.schema)))


def tenant_pool(dsn: str, tenant: TenantNames, size: int) -> AsyncConnectionPool[Any]:
    async def configure(conn: AsyncConnection[Any]) -> None:
        await _act_as_tenant(conn, tenant)

    # Checked when taken: a connection Postgres dropped while it was idle (a restart) is
    # replaced, not handed to a turn to fail it.
    return AsyncConnectionPool(
        dsn, min_size=1, max_size=size, open=False, configure=configure,
        check=AsyncConnectionPool.check_connection,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        name=f"checkpoints-{tenant.slug}")


def sealed_saver(pool: AsyncConnectionPool[Any], sealer: CheckpointSealer) -> AsyncPostgresSaver:
    return AsyncPostgresSaver(pool, serde=EncryptedSerializer(sealer))
