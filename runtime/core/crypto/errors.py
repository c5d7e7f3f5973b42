"""The typed errors of envelope encryption, so callers can tell shredding from tampering from an
outage without reading messages."""

from __future__ import annotations


class CryptoError(Exception):
    """Base of every error raised by `simptu.runtime.core.crypto`."""


class TenantShredded(CryptoError):
    """The tenant's transit key is destroyed (or was never made): its data is unreadable forever."""

    def __init__(self, key_name: str) -> None:
        super().__init__(f"transit key {key_name!r} is destroyed or missing: the tenant's data "
                         "is shredded and can never be decrypted again")
        self.key_name = key_name


class TamperedField(CryptoError):
    """A sealed field failed authentication or is malformed: it was altered, moved to another
    row, column, table or tenant, or sealed with another key. Never returns partial plaintext."""


class DataKeyRejected(CryptoError):
    """A stored wrapped data key does not unwrap under the tenant's transit key (it belongs to
    another tenant or was altered)."""


class NoDataKey(CryptoError):
    """The tenant has no data key: it was not provisioned with `ensure_data_key`."""


class KeyStoreError(CryptoError):
    """The key store refused a request for a reason other than a missing key (e.g. permissions)."""


class KeyStoreUnavailable(KeyStoreError):
    """The key store kept failing with transient errors until the retries ran out."""
