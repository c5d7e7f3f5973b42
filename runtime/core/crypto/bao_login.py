"""Logging in to OpenBao (or Vault) and staying logged in: a `BaoSession` holds one hvac client
whose token it got from an auth method (Kubernetes, AppRole) and logs in again, re-reading the
pod's projected ServiceAccount token, before that token's time is up.

A token given as it is ("token" method) is used unchanged: tools and tests, never a runtime.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import hvac
from prometheus_client import Counter

from simptu.runtime.core.settings import CoreSettings

log = logging.getLogger(__name__)

Method = Literal["token", "approle", "kubernetes"]
# Log in again once this share of a token's time has passed (kubelet's own rule for the
# projected token is 80 %; earlier here, so a slow login still ends before the token does).
RENEW_AT = 2 / 3
# After a failed background login, try again this soon (OpenBao restarting, a network blip).
RETRY_SECONDS = 5.0

BAO_LOGINS = Counter("simptu_bao_logins_total", "Logins to OpenBao, by method and outcome",
                     ["method", "outcome"])


@dataclass(frozen=True)
class BaoLogin:
    """How one process logs in: the method, where it is mounted and its credentials."""

    method: Method = "token"
    token: str = ""
    mount: str = ""
    role: str = ""
    jwt_file: str = ""
    role_id: str = ""
    secret_id: str = ""

    @classmethod
    def from_settings(cls, settings: CoreSettings) -> BaoLogin:
        return cls(method=settings.bao_auth, token=settings.bao_token.get_secret_value(),
                   mount=settings.bao_auth_mount or settings.bao_auth, role=settings.bao_role,
                   jwt_file=settings.bao_jwt_file, role_id=settings.bao_role_id,
                   secret_id=settings.bao_secret_id.get_secret_value())

    def authenticate(self, client: hvac.Client) -> dict[str, Any]:
        """Log `client` in (it keeps the token); OpenBao's `auth` block of the answer."""
        if self.method == "kubernetes":
            # Read at every login: the kubelet rotates the file's token before it expires.
            jwt = Path(self.jwt_file).read_text().strip()
            answer = client.auth.kubernetes.login(role=self.role, jwt=jwt,
                                                  mount_point=self.mount)
        elif self.method == "approle":
            answer = client.auth.approle.login(role_id=self.role_id, secret_id=self.secret_id,
                                               mount_point=self.mount)
        else:
            raise ValueError("a token is used as it is, not logged in with")
        auth: dict[str, Any] = answer["auth"]
        return auth


class BaoSession:
    """An hvac client with a valid token: `fresh()` (in a worker thread) logs in when the token
    is missing or near its end; `kept_fresh()` does it ahead of time, so requests never wait."""

    def __init__(self, url: str, login: BaoLogin, *, timeout: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        # An explicit "" keeps hvac from taking VAULT_TOKEN from the environment.
        self.client = hvac.Client(url=url, token=login.token if login.method == "token" else "",
                                  timeout=timeout)
        self.login = login
        self._clock = clock
        self._lock = threading.Lock()
        self._renew_at = math.inf if login.method == "token" else -math.inf

    @property
    def logs_in(self) -> bool:
        return self.login.method != "token"

    def seconds_left(self) -> float:
        """Until the next login is due (infinite for a fixed token)."""
        return self._renew_at - self._clock()

    def fresh(self) -> hvac.Client:
        """The client, logged in again first when its token is due (blocking: call it in a
        worker thread, as every hvac request is)."""
        if self._clock() >= self._renew_at:
            with self._lock:
                if self._clock() >= self._renew_at:
                    self._log_in()
        return self.client

    def expire(self) -> None:
        """Forget the token's time (OpenBao refused it): the next `fresh()` logs in."""
        if self.logs_in:
            self._renew_at = -math.inf

    def _log_in(self) -> None:
        started = self._clock()
        try:
            auth = self.login.authenticate(self.client)
        except Exception:
            BAO_LOGINS.labels(self.login.method, "refused").inc()
            raise
        BAO_LOGINS.labels(self.login.method, "ok").inc()
        lease = float(auth.get("lease_duration") or 0)
        self._renew_at = started + lease * RENEW_AT if lease else math.inf
        log.info("logged in to OpenBao", extra={"method": self.login.method,
                                                "role": self.login.role or None,
                                                "lease_seconds": lease})

    async def _keep_fresh(self) -> None:
        while True:
            await asyncio.sleep(max(self.seconds_left(), 0.0))
            try:
                await asyncio.to_thread(self.fresh)
            except Exception as error:  # logged; every request logs in itself if it must
                log.warning("OpenBao login failed, trying again in %.0f s: %s",
                            RETRY_SECONDS, error)
                await asyncio.sleep(RETRY_SECONDS)

    @contextlib.asynccontextmanager
    async def kept_fresh(self) -> AsyncIterator[BaoSession]:
        """Log in again in the background before the token's time is up, while the block runs."""
        if not self.logs_in:
            yield self
            return
        task = asyncio.create_task(self._keep_fresh(), name="openbao-login")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
