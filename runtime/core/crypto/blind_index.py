"""Blind indexes: HMAC-SHA256 of a normalised value, for equality lookups on sealed columns
("which customer has this phone") without storing the value in clear.

Each tenant has an index key of its own, separate from its data keys, so rotating the data key
leaves every index valid. HKDF derives one HMAC key per (tenant, column) from it, so equal values
in different columns or tenants never share an index.
"""

from __future__ import annotations

import hmac
import re
import unicodedata
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from simptu.runtime.core.crypto.sealing import encode_parts

HKDF_INFO_LABEL = b"simptu.blind-index.v1"
INDEX_KEY_SIZE = 32
NOT_A_DIGIT = re.compile(r"\D")  # in str patterns \d is any Unicode decimal digit


def normalise_email(value: str) -> str:
    """`" Ana@Example.COM "` -> `"ana@example.com"` (case-folded, compatibility-normalised)."""
    return unicodedata.normalize("NFKC", value).strip().casefold()


def normalise_phone(value: str) -> str:
    """Only the digits: `"+40 (722) 123-456"` -> `"40722123456"`.

    Store numbers in E.164 form: a local and an international spelling of one number have
    different digits, hence different indexes.
    """
    digits = NOT_A_DIGIT.sub("", unicodedata.normalize("NFKC", value))
    if not digits.isascii():  # another script's digits (e.g. Arabic-Indic), as ASCII ones
        digits = "".join(str(unicodedata.decimal(ch)) for ch in digits)
    return digits


def normalise_exact(value: str) -> str:
    """Any other column: Unicode-normalised, otherwise exactly as given."""
    return unicodedata.normalize("NFC", value)


NORMALISERS: dict[str, Callable[[str], str]] = {
    "email": normalise_email,
    "phone": normalise_phone,
}


def normaliser_for(column: str) -> Callable[[str], str]:
    """The normaliser of a sealed column, chosen by its name (`email`, `phone`, ...)."""
    return NORMALISERS.get(column, normalise_exact)


def derive_column_key(index_key: bytes, tenant: str, column: str) -> bytes:
    """The HMAC key of one tenant's column, derived from the tenant's index key."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=INDEX_KEY_SIZE, salt=None,
                info=HKDF_INFO_LABEL + encode_parts(tenant, column))
    return hkdf.derive(index_key)


def compute_blind_index(column_key: bytes, column: str, value: str) -> bytes:
    """The 32-byte blind index of `value` in `column` (normalised first)."""
    normalised = normaliser_for(column)(value)
    if not normalised:
        raise ValueError(f"{column}: {value!r} has nothing to index once normalised")
    return hmac.digest(column_key, normalised.encode(), "sha256")
