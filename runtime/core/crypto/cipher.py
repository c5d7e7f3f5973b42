"""`TenantCipher`: what the API and the agent use to seal, open and index one tenant's fields.

    cipher = ring.cipher(tenant, conn)
    row = {"name": await cipher.seal("customers", "name", customer_id, "Ana Pop"),
           "phone_index": await cipher.blind_index("phone", "+40 722 123 456")}
    name = await cipher.open_text("customers", "name", customer_id, row["name"])

Every call asks the key ring for its key (a dictionary lookup once warm), so a purge or a
shredding takes effect on ciphers that already exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import asyncpg
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from simptu.runtime.core.crypto.blind_index import compute_blind_index
from simptu.runtime.core.crypto.sealing import (
    FieldAddress,
    RowId,
    open_field,
    seal_field,
    sealed_key_version,
)
from simptu.runtime.core.tenancy import TenantNames

if TYPE_CHECKING:
    from simptu.runtime.core.crypto.keyring import KeyRing


class TenantCipher:
    def __init__(self, ring: KeyRing, tenant: TenantNames,
                 conn: asyncpg.Connection | None = None) -> None:
        self.ring = ring
        self.tenant = tenant
        self.conn = conn

    def _address(self, table: str, column: str, row_id: RowId) -> FieldAddress:
        return FieldAddress.of(self.tenant.slug, table, column, row_id)

    async def seal(self, table: str, column: str, row_id: RowId, value: str | bytes) -> bytes:
        """`value` sealed with the current data key, for `table.column` of row `row_id`."""
        plaintext = value.encode() if isinstance(value, str) else value
        version, key = await self.ring.sealing_key(self.tenant, self.conn)
        return seal_field(key, version, self._address(table, column, row_id), plaintext)

    async def open(self, table: str, column: str, row_id: RowId, sealed: bytes) -> bytes:
        """The plaintext; `TamperedField` unless it was sealed for exactly this place."""
        key = await self.ring.opening_key(self.tenant, sealed_key_version(sealed), self.conn)
        return open_field(key, self._address(table, column, row_id), sealed)

    async def open_text(self, table: str, column: str, row_id: RowId, sealed: bytes) -> str:
        return (await self.open(table, column, row_id, sealed)).decode()

    async def open_texts(self, table: str, column: str,
                         fields: Sequence[tuple[RowId, bytes]]) -> list[str]:
        """`open_text` of many (row id, sealed) fields of one column, e.g. a page of messages:
        each key version is asked of the ring once, not once per field."""
        versions = [sealed_key_version(sealed) for _, sealed in fields]  # read once per field
        keys: dict[int, AESGCM] = {}
        for version in set(versions):
            keys[version] = await self.ring.opening_key(self.tenant, version, self.conn)
        return [open_field(keys[version], self._address(table, column, row_id), sealed).decode()
                for (row_id, sealed), version in zip(fields, versions, strict=True)]

    async def reseal(self, table: str, column: str, row_id: RowId, sealed: bytes,
                     key_version: int | None = None) -> bytes:
        """The same value sealed with data key `key_version` (default: the current one),
        returned unchanged if it already is."""
        if key_version is None:
            key_version, _ = await self.ring.sealing_key(self.tenant, self.conn)
        if sealed_key_version(sealed) == key_version:
            return sealed
        plaintext = await self.open(table, column, row_id, sealed)
        key = await self.ring.opening_key(self.tenant, key_version, self.conn)
        return seal_field(key, key_version, self._address(table, column, row_id), plaintext)

    async def blind_index(self, column: str, value: str) -> bytes:
        """The HMAC of the normalised value, equal for equal values in this tenant's column."""
        column_key = await self.ring.column_index_key(self.tenant, column, self.conn)
        return compute_blind_index(column_key, column, value)
