"""Per-tenant envelope encryption: data keys wrapped by the tenant's transit key, sealed fields
(AES-256-GCM bound to tenant, table, column and row), blind indexes, rotation and shredding."""

from simptu.runtime.core.crypto.bao_login import BaoLogin, BaoSession
from simptu.runtime.core.crypto.cipher import TenantCipher
from simptu.runtime.core.crypto.datakeys import ensure_data_key
from simptu.runtime.core.crypto.errors import (
    CryptoError,
    DataKeyRejected,
    KeyStoreError,
    KeyStoreUnavailable,
    NoDataKey,
    TamperedField,
    TenantShredded,
)
from simptu.runtime.core.crypto.keyring import KeyRing
from simptu.runtime.core.crypto.reencryption import reencrypt_table
from simptu.runtime.core.crypto.rotation import (
    rewrap_data_keys,
    rotate_data_key,
    rotate_transit_key,
)
from simptu.runtime.core.crypto.shredding import shred_tenant
from simptu.runtime.core.crypto.transit import KeyStore, OpenBaoTransit

__all__ = [
    "BaoLogin",
    "BaoSession",
    "CryptoError",
    "DataKeyRejected",
    "KeyRing",
    "KeyStore",
    "KeyStoreError",
    "KeyStoreUnavailable",
    "NoDataKey",
    "OpenBaoTransit",
    "TamperedField",
    "TenantCipher",
    "TenantShredded",
    "ensure_data_key",
    "reencrypt_table",
    "rewrap_data_keys",
    "rotate_data_key",
    "rotate_transit_key",
    "shred_tenant",
]
