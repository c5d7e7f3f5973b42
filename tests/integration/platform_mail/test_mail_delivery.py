"""Each platform mail is handed to the relay once, whatever stops the mailer: it is recorded
before the hand-over and marked `sending` (committed) just before it, so a mailer that stops
after the relay took the mail and before it recorded `sent` gets the event again, finds the
mark, records the mail `uncertain` and sends nothing (the mailbox holds one mail); one that
stopped before claiming the mail sends it once when the event comes again. A relay that
refuses for now is tried again (the event is put back) up to the tries allowed, then the mail
is recorded `failed`; a refusal for good is recorded at once. The mailer here is the real one
on the real relay (stopped in-process, or as a process of its own killed with SIGKILL),
handling events made like the API's and never published, so the stack's own mailer never
sees them."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from email.message import EmailMessage

import pytest
import redis.asyncio as aioredis

from simptu.runtime.channels.email.smtp import Login, MailRelay
from simptu.runtime.channels.platform_mail.mailer import PlatformMailer, message_id_of
from simptu.runtime.channels.platform_mail.render import MailTemplates
from simptu.runtime.channels.send_errors import SendError
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.events import CloudEvent
from simptu.runtime.core.mail import records
from simptu.runtime.core.mail.requests import mail_request
from simptu.runtime.core.registry import TenantRegistry
from tests.integration.platform_mail.conftest import Platform, new_address

SENDER = "no-reply@simptu.localhost"


class CountedRelay(MailRelay):
    """The stack's relay, counting hand-overs; `stop_after` stops the mailer (as a kill would
    end it) right after the relay took the mail."""

    def __init__(self, url: str, stop_after: bool = False) -> None:
        super().__init__(url, timeout=10)
        self.calls, self.stop_after = 0, stop_after

    async def send(self, message: EmailMessage, login: Login | None = None) -> None:
        self.calls += 1
        await super().send(message, login)
        if self.stop_after:
            raise asyncio.CancelledError


class RefusingRelay(MailRelay):
    def __init__(self) -> None:
        super().__init__("smtp://127.0.0.1:25")
        self.calls = 0

    async def send(self, message: EmailMessage, login: Login | None = None) -> None:
        self.calls += 1
        raise SendError("permanent", "550", "5.1.1 mailbox unavailable")


@pytest.fixture
def registry(platform: Platform, redis_client: aioredis.Redis) -> TenantRegistry:
    return TenantRegistry(platform.db, redis_client)


def mailer(platform: Platform, registry: TenantRegistry, relay: MailRelay,
           attempts: int = 3) -> PlatformMailer:
    return PlatformMailer(platform.db, platform.key_ring, registry, relay, MailTemplates(),
                          SENDER, attempts)


async def code_mail(platform: Platform, to: str, code: str) -> CloudEvent:
    """The event the API enqueues when a customer asks for a code by mail."""
    async with TenantUnitOfWork(platform.db, platform.tenant) as conn:
        return await mail_request(platform.key_ring.cipher(platform.tenant, conn),
                                  platform.tenant, "access-code", to, "en",
                                  {"code": code, "hours": "1"}, source="/tests/platform-mail")


async def recorded(platform: Platform, event: CloudEvent) -> dict[str, object]:
    async with TenantUnitOfWork(platform.db, platform.tenant) as conn:
        row = await records.of_event(conn, event.id)
    assert row is not None
    return {"status": row["status"], "attempts": row["attempts"],
            "error_code": row["error_code"]}


async def test_a_mailer_stopped_between_hand_over_and_record_sends_nothing_twice(
        platform: Platform, registry: TenantRegistry) -> None:
    to = new_address("crash")
    event = await code_mail(platform, to, "31415926")
    first = CountedRelay(platform.stack["SIMPTU_MAIL_SMTP_URL"], stop_after=True)
    with pytest.raises(asyncio.CancelledError):
        await mailer(platform, registry, first).handle(event)
    assert await recorded(platform, event) == {"status": "sending", "attempts": 1,
                                               "error_code": None}
    arrived = await platform.mail(to, "Your access code")
    assert arrived["Message-ID"] == message_id_of(event.id, SENDER)

    again = CountedRelay(platform.stack["SIMPTU_MAIL_SMTP_URL"])
    restarted = mailer(platform, registry, again)  # the event, delivered again after a restart
    assert await restarted.handle(event) is False
    assert await restarted.handle(event) is False
    assert again.calls == 0
    assert (await recorded(platform, event))["status"] == "uncertain"
    assert len(await asyncio.to_thread(platform.mailbox, to)) == 1


async def test_a_mailer_stopped_before_the_hand_over_sends_the_mail_once_on_redelivery(
        platform: Platform, registry: TenantRegistry) -> None:
    to = new_address("redelivered")
    event = await code_mail(platform, to, "27182818")
    async with TenantUnitOfWork(platform.db, platform.tenant) as conn:
        # What a mailer had committed when it stopped: the mail recorded, not yet claimed.
        await records.record(conn, event.id, "access-code", message_id_of(event.id, SENDER))
    relay = CountedRelay(platform.stack["SIMPTU_MAIL_SMTP_URL"])
    restarted = mailer(platform, registry, relay)
    assert await restarted.handle(event) is True
    assert await restarted.handle(event) is False  # and a later redelivery: nothing
    assert relay.calls == 1
    assert await recorded(platform, event) == {"status": "sent", "attempts": 1,
                                               "error_code": None}
    mail = await platform.mail(to, "Your access code")
    assert "27182818" in str(mail.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert len(await asyncio.to_thread(platform.mailbox, to)) == 1


# A mailer in a process of its own that is killed (SIGKILL) the moment the relay has taken the
# mail: nothing of it runs after the hand-over, as when a node dies.
KILLED_MAILER = """
import asyncio, os, signal, sys
import asyncpg, redis.asyncio as aioredis
from simptu.runtime.channels.email.smtp import MailRelay
from simptu.runtime.channels.platform_mail.mailer import PlatformMailer
from simptu.runtime.channels.platform_mail.render import MailTemplates
from simptu.runtime.core.crypto import KeyRing, OpenBaoTransit
from simptu.runtime.core.events import CloudEvent
from simptu.runtime.core.registry import TenantRegistry
from simptu.runtime.core.settings import CoreSettings

class KilledAfterHandOver(MailRelay):
    async def send(self, message, login=None):
        await super().send(message, login)
        os.kill(os.getpid(), signal.SIGKILL)

async def main():
    settings = CoreSettings()
    pool = await asyncpg.create_pool(settings.database_url.get_secret_value())
    redis = aioredis.from_url(settings.redis_url.get_secret_value())
    async with KeyRing(pool, OpenBaoTransit.from_settings(settings)) as ring:
        mailer = PlatformMailer(pool, ring, TenantRegistry(pool, redis),
                                KilledAfterHandOver(sys.argv[1]), MailTemplates(), sys.argv[2], 3)
        await mailer.handle(CloudEvent.from_bytes(sys.stdin.buffer.read()))

asyncio.run(main())
"""


async def test_a_mailer_process_killed_right_after_the_hand_over_sends_nothing_twice(
        platform: Platform, registry: TenantRegistry) -> None:
    to = new_address("killed")
    event = await code_mail(platform, to, "11235813")
    env = {**platform.stack.values, "SIMPTU_BAO_ADDR": platform.stack["BAO_ADDR"],
           "SIMPTU_BAO_TOKEN": platform.stack["BAO_TOKEN"], "PATH": "/usr/bin:/bin"}
    killed = await asyncio.create_subprocess_exec(
        sys.executable, "-c", KILLED_MAILER, platform.stack["SIMPTU_MAIL_SMTP_URL"], SENDER,
        stdin=asyncio.subprocess.PIPE, env=env)
    await killed.communicate(event.to_bytes())
    assert killed.returncode == -signal.SIGKILL
    assert (await recorded(platform, event))["status"] == "sending"
    await platform.mail(to, "Your access code")  # the relay had taken it

    relay = CountedRelay(platform.stack["SIMPTU_MAIL_SMTP_URL"])
    assert await mailer(platform, registry, relay).handle(event) is False  # redelivered
    assert relay.calls == 0
    assert (await recorded(platform, event))["status"] == "uncertain"
    assert len(await asyncio.to_thread(platform.mailbox, to)) == 1


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_a_relay_that_refuses_for_now_is_tried_again_then_the_mail_is_recorded_failed(
        platform: Platform, registry: TenantRegistry) -> None:
    event = await code_mail(platform, new_address("unreachable"), "16180339")
    down = mailer(platform, registry, MailRelay(f"smtp://127.0.0.1:{closed_port()}", 5))
    for attempt in (1, 2):  # the consumer puts the event back and fetches it again later
        with pytest.raises(SendError) as raised:
            await down.handle(event)
        assert raised.value.kind == "transient"
        assert await recorded(platform, event) == {"status": "pending", "attempts": attempt,
                                                   "error_code": "connect"}
    assert await down.handle(event) is True  # the third and last try: recorded, not raised
    assert await recorded(platform, event) == {"status": "failed", "attempts": 3,
                                               "error_code": "connect"}
    assert await down.handle(event) is False


async def test_a_refusal_for_good_is_recorded_at_once_and_never_retried(
        platform: Platform, registry: TenantRegistry) -> None:
    event = await code_mail(platform, new_address("refused"), "14142135")
    relay = RefusingRelay()
    refused = mailer(platform, registry, relay)
    assert await refused.handle(event) is True
    assert await refused.handle(event) is False
    assert relay.calls == 1
    assert await recorded(platform, event) == {"status": "failed", "attempts": 1,
                                               "error_code": "550"}
    shown = await platform.api.get("/v1/mails", params={"status": "failed", "limit": 100},
                                   headers=await platform.headers("admin"))
    assert shown.status_code == 200, shown.text
    [mail] = [item for item in shown.json()["items"] if item["event_id"] == event.id]
    assert (mail["kind"], mail["error_code"]) == ("access-code", "550")
    assert "5.1.1" in mail["error_detail"]
    staff = await platform.api.get("/v1/mails", headers=await platform.headers("staff"))
    assert staff.status_code == 403


async def test_a_mail_of_a_tenant_deleted_since_is_dropped_not_retried(
        platform: Platform, registry: TenantRegistry) -> None:
    event = await code_mail(platform, new_address("orphan"), "17320508")
    gone = event.model_copy(update={"tenantid": f"gone-{event.id[:8]}"})
    relay = CountedRelay(platform.stack["SIMPTU_MAIL_SMTP_URL"])
    assert await mailer(platform, registry, relay).handle(gone) is False
    assert relay.calls == 0


async def test_a_mail_its_template_cannot_fill_is_recorded_failed_not_retried(
        platform: Platform, registry: TenantRegistry) -> None:
    async with TenantUnitOfWork(platform.db, platform.tenant) as conn:
        event = await mail_request(platform.key_ring.cipher(platform.tenant, conn),
                                   platform.tenant, "access-code", new_address("unfillable"),
                                   "en", {"hours": "1"}, source="/tests/platform-mail")
    relay = CountedRelay(platform.stack["SIMPTU_MAIL_SMTP_URL"])
    unfillable = mailer(platform, registry, relay)
    assert await unfillable.handle(event) is True  # handled: the partition moves on
    assert await unfillable.handle(event) is False
    assert relay.calls == 0
    assert await recorded(platform, event) == {"status": "failed", "attempts": 0,
                                               "error_code": "render"}
