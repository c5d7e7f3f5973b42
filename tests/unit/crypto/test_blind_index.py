"""Blind indexes: equal after normalisation, different across columns and tenants, keyed by
HKDF from the tenant's index key."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from simptu.runtime.core.crypto.blind_index import (
    compute_blind_index,
    derive_column_key,
    normalise_email,
    normalise_phone,
)
from simptu.runtime.core.crypto.sealing import encode_parts

INDEX_KEY = bytes(range(32))


def full_width(text: str) -> str:
    """ASCII letters and digits as their full-width forms, as East Asian keyboards type them."""
    return "".join(chr(ord(ch) + 0xFEE0) if ch.isalnum() else ch for ch in text)


def index(tenant: str, column: str, value: str, key: bytes = INDEX_KEY) -> bytes:
    return compute_blind_index(derive_column_key(key, tenant, column), column, value)


@pytest.mark.parametrize(("spelled", "normalised"), [
    (" Ana.Pop@Example.COM ", "ana.pop@example.com"),
    ("ÀNA@example.com", "àna@example.com"),
    (full_width("MARY") + "@example.com", "mary@example.com"),
])
def test_e_mail_addresses_are_trimmed_and_case_folded(spelled: str, normalised: str) -> None:
    assert normalise_email(spelled) == normalised


@pytest.mark.parametrize("spelled", ["+40 722 123 456", "+40-722-123-456", "(+40) 722.123.456",
                                     full_width("+40 722 123 456"), "+٤٠ ٧٢٢ ١٢٣ ٤٥٦"])
def test_phone_numbers_keep_only_their_digits(spelled: str) -> None:
    assert normalise_phone(spelled) == "40722123456"


def test_equal_values_spelled_differently_share_an_index() -> None:
    ana = index("clinic", "email", "ana@example.com")
    assert index("clinic", "email", " Ana@Example.COM ") == ana
    assert index("clinic", "phone", "+40 722 123 456") == index("clinic", "phone", "40722123456")


def test_other_columns_compare_exactly() -> None:
    assert index("clinic", "page_id", "Page-1") != index("clinic", "page_id", "page-1")


def test_the_same_value_gets_different_indexes_per_tenant_column_and_key() -> None:
    indexes = {index("clinic", "email", "a@b.c"), index("gym", "email", "a@b.c"),
               index("clinic", "contact", "a@b.c"), index("clinic", "email", "a@b.c", bytes(32))}
    assert len(indexes) == 4


def test_the_column_key_is_hkdf_sha256_of_the_index_key_with_tenant_and_column_as_info() -> None:
    expected = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                    info=b"simptu.blind-index.v1" + encode_parts("clinic", "email")
                    ).derive(INDEX_KEY)
    assert derive_column_key(INDEX_KEY, "clinic", "email") == expected
    assert index("clinic", "email", "A@B.c") == hmac.new(expected, b"a@b.c",
                                                         hashlib.sha256).digest()


def test_a_value_with_nothing_to_index_is_refused() -> None:
    with pytest.raises(ValueError, match="nothing to index"):
        index("clinic", "phone", "call me")
