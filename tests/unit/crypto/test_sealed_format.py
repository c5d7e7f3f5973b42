"""The sealed field format and its associated data: self-describing, bound to its place, and
failing loudly on any change."""

from __future__ import annotations

import struct
import uuid

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from simptu.runtime.core.crypto.errors import TamperedField
from simptu.runtime.core.crypto.sealing import (
    AAD_LABEL,
    OVERHEAD,
    FieldAddress,
    encode_parts,
    open_field,
    seal_field,
    sealed_key_version,
)

KEY = AESGCM(bytes(range(32)))
OTHER_KEY = AESGCM(bytes(range(1, 33)))
ROW = uuid.UUID("6f1c2a7e-0000-4000-8000-000000000001")
HERE = FieldAddress.of("clinic", "customers", "notes", ROW)


def test_a_sealed_value_is_format_version_key_version_nonce_then_ciphertext_and_tag() -> None:
    sealed = seal_field(KEY, 7, HERE, b"hello")
    assert sealed[0] == 1
    assert struct.unpack(">I", sealed[1:5]) == (7,)
    assert len(sealed) == 1 + 4 + 12 + len(b"hello") + 16 == OVERHEAD + 5
    assert sealed_key_version(sealed) == 7


def test_sealing_the_same_value_twice_gives_different_bytes() -> None:
    assert seal_field(KEY, 1, HERE, b"same") != seal_field(KEY, 1, HERE, b"same")


def test_the_associated_data_binds_header_tenant_table_column_and_row() -> None:
    header = bytes([1, 0, 0, 0, 7])
    expected = (AAD_LABEL + header + struct.pack(">I", 6) + b"clinic" +
                struct.pack(">I", 9) + b"customers" + struct.pack(">I", 5) + b"notes" +
                struct.pack(">I", 36) + str(ROW).encode())
    assert HERE.associated_data(header) == expected


def test_the_part_encoding_is_unambiguous() -> None:
    assert encode_parts("ab", "c") != encode_parts("a", "bc")
    assert encode_parts("a:b", "c") != encode_parts("a", "b:c")
    assert encode_parts("", "x") != encode_parts("x", "")
    assert encode_parts("é") == struct.pack(">I", 2) + "é".encode()


def test_a_uuid_row_id_and_its_text_are_the_same_row() -> None:
    sealed = seal_field(KEY, 1, HERE, b"x")
    assert open_field(KEY, FieldAddress.of("clinic", "customers", "notes", str(ROW)),
                      sealed) == b"x"
    assert FieldAddress.of("t", "customers", "notes", 42).row_id == "42"


@pytest.mark.parametrize("elsewhere", [
    FieldAddress.of("gym", "customers", "notes", ROW),
    FieldAddress.of("clinic", "bookings", "notes", ROW),
    FieldAddress.of("clinic", "customers", "name", ROW),
    FieldAddress.of("clinic", "customers", "notes", uuid.uuid4()),
], ids=["tenant", "table", "column", "row"])
def test_a_value_opened_at_another_address_is_tampered(elsewhere: FieldAddress) -> None:
    with pytest.raises(TamperedField):
        open_field(KEY, elsewhere, seal_field(KEY, 1, HERE, b"secret"))


def test_a_value_opened_with_another_key_is_tampered() -> None:
    with pytest.raises(TamperedField):
        open_field(OTHER_KEY, HERE, seal_field(KEY, 1, HERE, b"secret"))


def test_every_single_bit_flip_is_detected() -> None:
    sealed = seal_field(KEY, 1, HERE, b"0722 555 019")
    for position in range(len(sealed)):
        for bit in range(8):
            flipped = bytearray(sealed)
            flipped[position] ^= 1 << bit
            with pytest.raises(TamperedField):
                open_field(KEY, HERE, bytes(flipped))


@pytest.mark.parametrize("malformed", [b"", b"\x01", bytes(OVERHEAD - 1)],
                         ids=["empty", "one byte", "shorter than the overhead"])
def test_a_truncated_value_is_tampered(malformed: bytes) -> None:
    with pytest.raises(TamperedField, match="at least"):
        sealed_key_version(malformed)


def test_an_unknown_format_version_is_tampered() -> None:
    sealed = bytearray(seal_field(KEY, 1, HERE, b"x"))
    sealed[0] = 2
    with pytest.raises(TamperedField, match="unknown sealed field format 2"):
        open_field(KEY, HERE, bytes(sealed))


@pytest.mark.parametrize("version", [0, -1, 2**32])
def test_key_versions_outside_32_bits_are_refused(version: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        seal_field(KEY, version, HERE, b"x")


@given(plaintext=st.binary(max_size=2048), version=st.integers(1, 2**32 - 1),
       tenant=st.text(min_size=1, max_size=40), column=st.text(max_size=20),
       row=st.one_of(st.integers(), st.uuids(), st.text()))
def test_whatever_is_sealed_opens_to_itself_at_its_address(plaintext: bytes, version: int,
                                                           tenant: str, column: str,
                                                           row: int | uuid.UUID | str) -> None:
    address = FieldAddress.of(tenant, "customers", column, row)
    sealed = seal_field(KEY, version, address, plaintext)
    assert sealed_key_version(sealed) == version
    assert open_field(KEY, address, sealed) == plaintext
