"""The key store behind envelope encryption: a `KeyStore` protocol and `OpenBaoTransit`, its
implementation on the OpenBao/Vault transit engine (hvac, run in threads, bounded retries).

Transit keys never leave OpenBao; it only hands out data keys wrapped by them, unwraps and
rewraps them. Every HTTP request to it is counted in `simptu_transit_calls_total`.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import hvac
import hvac.exceptions
import requests
from prometheus_client import Counter

from simptu.runtime.core.crypto.bao_login import BaoLogin, BaoSession
from simptu.runtime.core.crypto.errors import (
    DataKeyRejected,
    KeyStoreError,
    KeyStoreUnavailable,
    TenantShredded,
)
from simptu.runtime.core.settings import CoreSettings

log = logging.getLogger(__name__)

TRANSIT_CALLS = Counter("simptu_transit_calls_total",
                        "Requests sent to the transit engine (retries included)", ["operation"])

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    hvac.exceptions.InternalServerError, hvac.exceptions.BadGateway, hvac.exceptions.VaultDown,
    hvac.exceptions.RateLimitExceeded, requests.ConnectionError, requests.Timeout,
)
# Transit's words for "no such key" (decrypt/datakey/rewrap/rotate/config of a missing key).
MISSING_KEY_MESSAGES = (
    "encryption key not found", "key not found", "no existing key named",
    "could not delete key; not found",
)
REJECTED_CIPHERTEXT_MESSAGES = ("message authentication failed", "invalid ciphertext")

Result = TypeVar("Result")


@dataclass(frozen=True)
class TransitKeyInfo:
    name: str
    latest_version: int
    min_decryption_version: int


class KeyStore(Protocol):
    """What envelope encryption needs from a key-management service."""

    async def ensure_key(self, name: str) -> None:
        """Create the AES-256-GCM key `name` if it does not exist."""

    async def generate_data_key(self, name: str) -> str:
        """A new random 256-bit data key, returned only wrapped by `name`."""

    async def unwrap(self, name: str, wrapped: str) -> bytes:
        """The plaintext of a wrapped data key."""

    async def rewrap(self, name: str, wrapped: str) -> str:
        """The same data key, wrapped again by the latest version of `name`."""

    async def rotate_key(self, name: str) -> int:
        """Add a new version of `name`; returns it."""

    async def key_info(self, name: str) -> TransitKeyInfo: ...

    async def hmac(self, name: str, data: bytes) -> bytes:
        """HMAC-SHA256 of `data` under the key's first version (stable across rotations)."""

    async def destroy_key(self, name: str) -> None:
        """Delete `name` for good (idempotent)."""


def transit_calls_total() -> float:
    """Every transit request counted so far, all operations together."""
    return sum(sample.value for metric in TRANSIT_CALLS.collect() for sample in metric.samples
               if sample.name.endswith("_total"))


def wrapped_key_version(wrapped: str) -> int:
    """The transit key version inside a wrapped key (`vault:v<n>:...`)."""
    prefix, version, _ = wrapped.split(":", 2)
    if prefix != "vault" or not version.startswith("v"):
        raise DataKeyRejected("a wrapped data key must look like vault:v<n>:<base64>")
    return int(version[1:])


def _message(error: hvac.exceptions.VaultError) -> str:
    return " ".join(str(e) for e in (error.errors or [error])).lower()


def _translate(error: hvac.exceptions.VaultError, name: str) -> Exception:
    """A typed crypto error for a permanent transit failure."""
    message = _message(error)
    if isinstance(error, hvac.exceptions.InvalidPath) or any(
            words in message for words in MISSING_KEY_MESSAGES):
        return TenantShredded(name)
    if any(words in message for words in REJECTED_CIPHERTEXT_MESSAGES):
        return DataKeyRejected(f"transit key {name!r} rejected the wrapped data key: {message}")
    return KeyStoreError(f"transit request on {name!r} failed: {message}")


class OpenBaoTransit:
    """`KeyStore` on OpenBao's (or Vault's) transit secrets engine."""

    def __init__(self, url: str, token: str = "", mount: str = "transit", *,
                 login: BaoLogin | None = None, timeout: float = 5.0, attempts: int = 3,
                 backoff: float = 0.2) -> None:
        """`token` is used as it is; `login` logs in instead (and again when due)."""
        # hvac is synchronous (requests); its timeout bounds each request in its worker thread.
        self.session = BaoSession(url, login or BaoLogin(token=token), timeout=timeout)
        self._client = self.session.client
        self._transit = self._client.secrets.transit
        self.mount = mount
        self.attempts = attempts
        self.backoff = backoff

    @classmethod
    def from_settings(cls, settings: CoreSettings) -> OpenBaoTransit:
        return cls(settings.bao_addr, mount=settings.transit_mount,
                   login=BaoLogin.from_settings(settings))

    def _logged_in(self, request: Callable[..., Result], name: str,
                   arguments: dict[str, Any]) -> Result:
        """One request with a valid token; a token OpenBao no longer knows (revoked, or its
        time over while the process slept) is replaced by one new login."""
        self.session.fresh()
        try:
            return request(name, mount_point=self.mount, **arguments)
        except hvac.exceptions.Forbidden:
            if not self.session.logs_in:
                raise
            self.session.expire()
            self.session.fresh()
            return request(name, mount_point=self.mount, **arguments)

    async def _call(self, operation: str, name: str, request: Callable[..., Result],
                    **arguments: Any) -> Result:
        """Run one hvac request in a thread, retrying transient failures with backoff."""
        for attempt in range(1, self.attempts + 1):
            TRANSIT_CALLS.labels(operation).inc()
            try:
                return await asyncio.to_thread(self._logged_in, request, name, arguments)
            except TRANSIENT_ERRORS as error:
                if attempt == self.attempts:
                    raise KeyStoreUnavailable(
                        f"transit {operation} on {name!r} failed {attempt} times: {error}"
                    ) from error
                log.warning("transit %s on %s failed (attempt %d), retrying: %s",
                            operation, name, attempt, error)
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
            except hvac.exceptions.VaultError as error:
                raise _translate(error, name) from error
        raise AssertionError("unreachable: the loop returns or raises")

    async def check_unsealed(self) -> None:
        """Raise unless OpenBao answers and is unsealed (readiness; one unauthenticated
        request, not retried: the probe itself is asked again)."""
        status = await asyncio.to_thread(self._client.sys.read_seal_status)
        if status["sealed"]:
            raise KeyStoreUnavailable("OpenBao is sealed")

    async def ensure_key(self, name: str) -> None:
        # Creating an existing key is a no-op in transit, so this is idempotent.
        await self._call("create_key", name, self._transit.create_key, key_type="aes256-gcm96",
                         exportable=False, allow_plaintext_backup=False)

    async def generate_data_key(self, name: str) -> str:
        answer = await self._call("datakey", name, self._transit.generate_data_key,
                                  key_type="wrapped", bits=256)
        wrapped: str = answer["data"]["ciphertext"]
        return wrapped

    async def unwrap(self, name: str, wrapped: str) -> bytes:
        answer = await self._call("decrypt", name, self._transit.decrypt_data,
                                  ciphertext=wrapped)
        return base64.b64decode(answer["data"]["plaintext"])

    async def rewrap(self, name: str, wrapped: str) -> str:
        answer = await self._call("rewrap", name, self._transit.rewrap_data, ciphertext=wrapped)
        rewrapped: str = answer["data"]["ciphertext"]
        return rewrapped

    async def rotate_key(self, name: str) -> int:
        await self._call("rotate", name, self._transit.rotate_key)
        return (await self.key_info(name)).latest_version

    async def key_info(self, name: str) -> TransitKeyInfo:
        data = (await self._call("read_key", name, self._transit.read_key))["data"]
        return TransitKeyInfo(name, int(data["latest_version"]),
                              int(data["min_decryption_version"]))

    async def hmac(self, name: str, data: bytes) -> bytes:
        answer = await self._call("hmac", name, self._transit.generate_hmac,
                                  hash_input=base64.b64encode(data).decode(), key_version=1,
                                  algorithm="sha2-256")
        return base64.b64decode(answer["data"]["hmac"].rsplit(":", 1)[1])

    async def destroy_key(self, name: str) -> None:
        try:
            await self._call("configure", name, self._transit.update_key_configuration,
                             deletion_allowed=True)
            await self._call("delete", name, self._transit.delete_key)
        except TenantShredded:
            return  # already gone: destroying is idempotent
