"""Sealing one field with AES-256-GCM in a self-describing byte format, bound to where it lives.

    offset  size  content
    0       1     format version (1)
    1       4     data key version, unsigned big-endian
    5       12    random nonce
    17      n+16  ciphertext and GCM tag

The associated data binds the header and the field's address (tenant, table, column, row id),
each length-prefixed, so a sealed value opens only in the place it was sealed for.
"""

from __future__ import annotations

import functools
import os
import struct
import uuid
from typing import NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from simptu.runtime.core.crypto.errors import TamperedField

FORMAT_VERSION = 1
HEADER = struct.Struct(">BI")  # format version, data key version
NONCE_SIZE = 12
TAG_SIZE = 16
OVERHEAD = HEADER.size + NONCE_SIZE + TAG_SIZE
AAD_LABEL = b"simptu.sealed-field"
MAX_KEY_VERSION = 2**32 - 1

RowId = str | int | uuid.UUID


def encode_parts(*parts: str) -> bytes:
    """Each part as a 4-byte length then its UTF-8 bytes: no two part lists encode alike."""
    encoded = bytearray()
    for part in parts:
        raw = part.encode()
        encoded += struct.pack(">I", len(raw)) + raw
    return bytes(encoded)


def row_id_text(row_id: RowId) -> str:
    """The canonical text of a row id (a UUID and its string are the same row)."""
    return str(row_id)


@functools.lru_cache(maxsize=4096)
def column_binding(tenant: str, table: str, column: str) -> bytes:
    """The associated data every field of one tenant's column shares (computed once)."""
    return encode_parts(tenant, table, column)


class FieldAddress(NamedTuple):
    """Where a sealed value lives; opening it anywhere else fails. (A tuple: it is built for
    every field sealed or opened, and tuples are cheap.)"""

    tenant: str
    table: str
    column: str
    row_id: str

    @classmethod
    def of(cls, tenant: str, table: str, column: str, row_id: RowId) -> FieldAddress:
        return cls(tenant, table, column, row_id_text(row_id))

    def associated_data(self, header: bytes) -> bytes:
        row = self.row_id.encode()
        return b"".join((AAD_LABEL, header, column_binding(self.tenant, self.table, self.column),
                         len(row).to_bytes(4, "big"), row))


def header_of(key_version: int) -> bytes:
    if not 0 < key_version <= MAX_KEY_VERSION:
        raise ValueError(f"data key version {key_version} is out of range")
    return HEADER.pack(FORMAT_VERSION, key_version)


def sealed_key_version(sealed: bytes) -> int:
    """The data key version a sealed value names; raises `TamperedField` if it is malformed."""
    if len(sealed) < OVERHEAD:
        raise TamperedField(f"a sealed field has at least {OVERHEAD} bytes, got {len(sealed)}")
    format_version, key_version = HEADER.unpack_from(sealed)
    if format_version != FORMAT_VERSION:
        raise TamperedField(f"unknown sealed field format {format_version}")
    return int(key_version)


def seal_field(key: AESGCM, key_version: int, address: FieldAddress, plaintext: bytes) -> bytes:
    header = header_of(key_version)
    nonce = os.urandom(NONCE_SIZE)  # 96-bit random nonce: safe for 2**32 seals per data key
    return header + nonce + key.encrypt(nonce, plaintext, address.associated_data(header))


def open_field(key: AESGCM, address: FieldAddress, sealed: bytes) -> bytes:
    """The plaintext, or `TamperedField` if the value, its place or its key do not match."""
    sealed_key_version(sealed)
    header, nonce = sealed[:HEADER.size], sealed[HEADER.size:HEADER.size + NONCE_SIZE]
    try:
        return key.decrypt(nonce, sealed[HEADER.size + NONCE_SIZE:],
                           address.associated_data(header))
    except InvalidTag:
        raise TamperedField(
            f"sealed {address.table}.{address.column} of row {address.row_id} does not "
            "authenticate: altered, moved from another row, column or tenant, or wrong key"
        ) from None
