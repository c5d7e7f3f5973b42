"""The relay's wake-up call: a dedicated connection LISTENing on the outbox channel, which
reconnects when lost and asks for a full sweep whenever it (re)connects."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import asyncpg

from simptu.runtime.core.events.outbox import OUTBOX_CHANNEL
from simptu.runtime.core.events.retry import Backoff
from simptu.runtime.core.tenancy import InvalidSlug, check_slug

log = logging.getLogger(__name__)

LISTENER_APPLICATION_NAME = "simptu-outbox-listener"
CONNECTION_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
RECONNECT_BACKOFF = Backoff(first=0.5, longest=10.0)


class OutboxListener:
    """Calls `on_notify(slug)` for each notification, `on_connected()` after each (re)connect."""

    def __init__(self, dsn: str, on_notify: Callable[[str], None],
                 on_connected: Callable[[], None], *, health_interval: float = 5.0,
                 backoff: Backoff = RECONNECT_BACKOFF) -> None:
        self.dsn = dsn
        self.on_notify = on_notify
        self.on_connected = on_connected
        self.health_interval = health_interval
        self.backoff = backoff
        # True while notifications arrive: nothing is missed, polling can be rare.
        self.connected = False

    async def run(self) -> None:
        """Listen until cancelled; a lost connection is retried with backoff."""
        failures = 0
        while True:
            try:
                await self._listen_until_lost()
                failures = 0
            except CONNECTION_ERRORS as error:
                failures += 1
                log.warning("outbox listener: connection failed (%r); polling meanwhile", error)
            await asyncio.sleep(self.backoff.delay(max(failures, 1)))

    async def _listen_until_lost(self) -> None:
        conn = await asyncpg.connect(self.dsn, timeout=10, server_settings={
            "application_name": LISTENER_APPLICATION_NAME})
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        try:
            await conn.add_listener(OUTBOX_CHANNEL, self._received)
            self.connected = True
            self.on_connected()  # notifications sent while we were not listening are lost
            await self._watch(conn, lost)
            log.warning("outbox listener: connection lost; reconnecting")
        finally:
            self.connected = False
            if not conn.is_closed():
                conn.terminate()

    async def _watch(self, conn: asyncpg.Connection, lost: asyncio.Event) -> None:
        # A half-open TCP connection never reports itself: ask the server now and then.
        while not lost.is_set():
            try:
                await asyncio.wait_for(lost.wait(), self.health_interval)
            except TimeoutError:
                await conn.fetchval("SELECT 1", timeout=self.health_interval)

    def _received(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        try:
            self.on_notify(check_slug(str(payload)))
        except InvalidSlug:
            log.warning("outbox listener: ignoring notification %r (not a tenant slug)", payload)
