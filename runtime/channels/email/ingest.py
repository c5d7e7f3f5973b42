"""Reading the tenants' mailboxes: one IMAP connection per address, waiting in IDLE for new
mail (polling where the server has no IDLE or the connection breaks it), each unseen mail
dispatched once and then flagged \\Seen. A mail is flagged only after it was stored, so a
crash reads it again and the dispatch drops what it stored before."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aioimaplib
import asyncpg
import structlog
from redis.exceptions import RedisError

from simptu.runtime.channels.email.dispatch import MailDispatch
from simptu.runtime.channels.email.leases import MailboxLeases
from simptu.runtime.channels.email.parse import InboundMail, parse_mail
from simptu.runtime.channels.metrics import MAILS
from simptu.runtime.core import background
from simptu.runtime.core.channels.accounts import ChannelAccount, ChannelAccounts
from simptu.runtime.core.channels.faults import clear_fault, record_fault
from simptu.runtime.core.channels.routing import EMAIL_ADDRESS, RegistryIndex
from simptu.runtime.core.language import Locale
from simptu.runtime.core.registry import TenantRegistry, ready_slugs
from simptu.runtime.core.tenancy import TenantNames

log = structlog.get_logger(__name__)

FETCHED = re.compile(rb"UID (\d+)")
BATCH = 200  # mails fetched per command
FAILURES_KEPT = 3  # a mail that failed this often is flagged and left for staff
LANES = 16  # senders whose mails are dispatched at once


@dataclass(frozen=True)
class Mailbox:
    """One address to read, and how to log in."""

    slug: str
    address: str
    imap_url: str  # imap://host:port or imaps://host:port
    username: str
    password: str
    locale: Locale = "ro"  # the tenant's: a mail's language when its words do not tell


Handler = Callable[[Mailbox, InboundMail], Awaitable[str]]
# Told when the server refuses the mailbox's login (detail), and when it accepts it again (None).
LoginOutcome = Callable[[Mailbox, str | None], Awaitable[None]]


@dataclass
class MailboxReader:
    """One mailbox, read until cancelled (`run`); `open`, `drain` and `close` are its steps."""

    mailbox: Mailbox
    handle: Handler
    # RFC 2177 asks for a new IDLE within 29 minutes; a shorter one also bounds how long a
    # mail whose news was missed waits.
    idle_seconds: float = 120.0
    poll_seconds: float = 10.0
    timeout: float = 30.0
    login_outcome: LoginOutcome | None = None
    _failures: dict[int, int] = field(default_factory=dict)
    _refused: bool = False
    _client: aioimaplib.IMAP4 | None = None
    _pause: float = 1.0

    async def run(self) -> None:
        """Read until cancelled; a broken connection is opened again after a pause (doubled
        while the server keeps refusing, up to a minute)."""
        while True:
            try:
                await self._session()
            except (OSError, TimeoutError, aioimaplib.Abort, aioimaplib.Error,
                    ReadFailed) as error:
                log.warning("mailbox connection lost", tenant=self.mailbox.slug,
                            error=str(error) or type(error).__name__, retry_in=self._pause)
            except Exception:  # an answer we did not expect: connect and read again
                log.exception("mailbox reading failed", tenant=self.mailbox.slug,
                              retry_in=self._pause)
            finally:
                await self.close()
            await asyncio.sleep(self._pause)
            self._pause = min(self._pause * 2, 60.0)

    async def open(self) -> aioimaplib.IMAP4:
        server = urlsplit(self.mailbox.imap_url)
        host = server.hostname or "127.0.0.1"
        if server.scheme == "imaps":
            client: aioimaplib.IMAP4 = aioimaplib.IMAP4_SSL(host=host, port=server.port or 993,
                                                            timeout=self.timeout)
        else:
            client = aioimaplib.IMAP4(host=host, port=server.port or 143, timeout=self.timeout)
        self._client = client
        await client.wait_hello_from_server()
        login = await client.login(self.mailbox.username, self.mailbox.password)
        if login.result != "OK":
            await self._login_outcome(_ok_detail(login))
            raise ReadFailed(f"login: {_ok_detail(login)}")
        if self._refused:
            await self._login_outcome(None)
        _ok(await client.select("INBOX"), "select INBOX")
        return client

    async def _login_outcome(self, refusal: str | None) -> None:
        """Report a refused login once (a wrong password needs people), and its end."""
        if (refusal is not None) != self._refused and self.login_outcome is not None:
            await self.login_outcome(self.mailbox, refusal)
        self._refused = refusal is not None

    async def _session(self) -> None:
        client = await self.open()
        self._pause = 1.0
        log.info("reading mailbox", tenant=self.mailbox.slug,
                 idle=client.has_capability("IDLE"))
        while True:
            # Again until nothing is new: the news of a mail that arrived while the last
            # ones were handled came with those commands' answers, not in the IDLE below.
            while await self.drain(client):
                pass
            if client.has_capability("IDLE"):
                idle = await client.idle_start(timeout=self.idle_seconds)
                await client.wait_server_push(timeout=self.idle_seconds + 5)
                client.idle_done()
                await asyncio.wait_for(idle, self.timeout)
            else:
                await asyncio.sleep(self.poll_seconds)

    async def drain(self, client: aioimaplib.IMAP4) -> int:
        """Dispatch every unseen mail, oldest first; how many were read."""
        found = _ok(await client.uid_search("UNSEEN"), "search")
        uids = [int(uid) for line in found.lines[:-1] for uid in line.split()]
        read = 0
        for start in range(0, len(uids), BATCH):
            batch = uids[start:start + BATCH]
            fetched = _ok(await client.uid("fetch", ",".join(map(str, batch)),
                                           "(UID BODY.PEEK[])"), "fetch")
            done, given_up = await self._dispatch_all(_mails(fetched.lines))
            for flags, marked in (("(\\Seen)", done + given_up), ("(\\Flagged)", given_up)):
                if marked:  # given up: left seen and flagged, for staff to look at
                    _ok(await client.uid("store", ",".join(map(str, marked)), "+FLAGS.SILENT",
                                         flags), "store")
            read += len(done)
        return read

    async def _dispatch_all(self, mails: list[tuple[int, bytes]]) -> tuple[list[int], list[int]]:
        """Each sender's mails one after the other, in the mailbox's order (a reply after
        the mail it answers), different senders' at once; (done, given up) uids."""
        lanes: dict[str, list[tuple[int, InboundMail | None]]] = {}
        for uid, raw in mails:
            try:
                mail: InboundMail | None = parse_mail(raw, self.mailbox.locale)
            except (ValueError, LookupError, TypeError, IndexError):
                log.exception("mail not parsed", tenant=self.mailbox.slug, uid=uid)
                mail = None
            lanes.setdefault(mail.sender if mail else "", []).append((uid, mail))
        done: list[int] = []
        given_up: list[int] = []
        room = asyncio.Semaphore(LANES)

        async def lane(queued: list[tuple[int, InboundMail | None]]) -> None:
            async with room:
                for uid, mail in queued:
                    outcome = await self._dispatched(uid, mail)
                    (done if outcome else given_up if outcome is None else []).append(uid)

        await asyncio.gather(*(lane(queued) for queued in lanes.values()))
        return sorted(done), sorted(given_up)

    async def _dispatched(self, uid: int, mail: InboundMail | None) -> bool | None:
        """True: dispatched; False: failed, to be tried again; None: failed too often (or
        unreadable), given up."""
        try:
            if mail is None:
                raise ValueError("the mail could not be parsed")
            outcome = await self.handle(self.mailbox, mail)
        except Exception as error:  # one bad mail must not stop the mailbox
            failures = self._failures[uid] = self._failures.get(uid, 0) + 1
            log.exception("mail not dispatched", tenant=self.mailbox.slug, uid=uid,
                          failures=failures, error=type(error).__name__)
            if failures < FAILURES_KEPT:
                return False
            MAILS.labels("failed").inc()
            return None
        MAILS.labels(outcome).inc()
        self._failures.pop(uid, None)
        return True

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            # the connection may be gone already
            with contextlib.suppress(OSError, TimeoutError, aioimaplib.Abort, aioimaplib.Error):
                await asyncio.wait_for(client.logout(), 5)


class ReadFailed(Exception):
    """The server refused a command (a wrong password, a missing folder)."""


def _ok_detail(response: aioimaplib.Response) -> str:
    lines = b" ".join(bytes(line) for line in response.lines).decode(errors="replace")
    return f"{response.result} {lines}"


def _ok(response: aioimaplib.Response, what: str) -> aioimaplib.Response:
    if response.result != "OK":
        raise ReadFailed(f"{what}: {_ok_detail(response)}")
    return response


def _mails(lines: list[bytes | bytearray]) -> list[tuple[int, bytes]]:
    """(uid, raw mail) of each mail of a FETCH answer: a `N FETCH (UID u BODY[] {n}` line,
    the literal, then `)`."""
    mails = []
    for header, literal in itertools.pairwise(lines):
        if isinstance(literal, bytearray) and b"FETCH" in header:
            uid = FETCHED.search(bytes(header))
            if uid:
                mails.append((int(uid.group(1)), bytes(literal)))
    return mails


@dataclass
class MailIngest:
    """Every Ready tenant's mailboxes, each read by a reader of its own; the set is read
    again every `refresh` seconds (a new tenant, a changed address or password)."""

    pool: asyncpg.Pool
    accounts: ChannelAccounts
    registry: TenantRegistry
    dispatch: MailDispatch
    index: RegistryIndex
    imap_url: str
    password: str
    tenant: str | None = None  # only this tenant's (its own pods)
    leases: MailboxLeases | None = None  # one reader per mailbox among replicas
    _readers: dict[Mailbox, asyncio.Task[None]] = field(default_factory=dict)

    async def run(self, refresh: float) -> None:
        try:
            while True:
                try:
                    await self.converge(await self.leased(await self.wanted()))
                except (OSError, asyncpg.PostgresError, RedisError) as error:
                    log.warning("mailboxes not listed", error=str(error))
                await asyncio.sleep(refresh)
        finally:
            await self.converge(set())

    async def wanted(self) -> set[Mailbox]:
        slugs = [self.tenant] if self.tenant else await ready_slugs(self.pool)
        found: set[Mailbox] = set()
        for slug in slugs:
            try:
                found |= await self._tenants_mailboxes(slug)
            except Exception:  # one tenant's trouble (deleted meanwhile, OpenBao away)
                log.exception("mailboxes of a tenant not listed", tenant=slug)
                found |= {box for box in self._readers if box.slug == slug}  # kept as read
        return found

    async def _tenants_mailboxes(self, slug: str) -> set[Mailbox]:
        account = await self.accounts.get(TenantNames(slug), "email", fresh=True)
        if account is None:
            return set()
        locale = (await self.registry.get(slug)).locale
        return {box for box in mailboxes_of(slug, account, self.imap_url, self.password,
                                            "en" if locale.startswith("en") else "ro")
                if await self.owns(slug, box.address)}

    async def owns(self, slug: str, address: str) -> bool:
        """Whether the routing registry gives the address to this tenant: one that another
        tenant registered first is refused by the operator, and never read for this one."""
        owner = await self.pool.fetchval(
            "SELECT slug FROM platform.tenant_channels WHERE channel = $1 AND blind_index = $2",
            EMAIL_ADDRESS, await self.index.of(EMAIL_ADDRESS, address))
        return bool(owner == slug)

    async def leased(self, wanted: set[Mailbox]) -> set[Mailbox]:
        """The mailboxes this replica reads: those whose lease it holds (renewed now)."""
        if self.leases is None:
            return wanted
        return {box for box in wanted if await self.leases.hold(box.slug, box.address)}

    async def converge(self, wanted: set[Mailbox]) -> None:
        for gone in set(self._readers) - wanted:
            await background.stop(self._readers.pop(gone))
            if self.leases is not None and not any(
                    (box.slug, box.address) == (gone.slug, gone.address) for box in wanted):
                await self.leases.release(gone.slug, gone.address)
        for mailbox in wanted - set(self._readers):
            reader = MailboxReader(mailbox, self.handle, login_outcome=self.login_outcome)
            self._readers[mailbox] = asyncio.create_task(reader.run(),
                                                         name=f"mailbox {mailbox.slug}")

    async def login_outcome(self, mailbox: Mailbox, refusal: str | None) -> None:
        """A refused login is a channel fault, in the Tenant's conditions until it passes."""
        try:
            if refusal is None:
                await clear_fault(self.pool, mailbox.slug, "email")
                return
            log.warning("mailbox login refused", tenant=mailbox.slug, detail=refusal)
            await record_fault(self.pool, mailbox.slug, "email", "login-refused",
                               f"{mailbox.address}: {refusal}")
        except (OSError, asyncpg.PostgresError) as error:  # Postgres away: logged only
            log.warning("mailbox fault not recorded", tenant=mailbox.slug, error=str(error))

    async def handle(self, mailbox: Mailbox, mail: InboundMail) -> str:
        tenant = await self.registry.get(mailbox.slug)
        account = await self.accounts.get(tenant.names, "email")
        own = addresses_of(account) if account else ()
        return await self.dispatch.dispatch(tenant, mailbox.address, mail, own)


def addresses_of(account: ChannelAccount) -> tuple[str, ...]:
    return tuple(a for a in (account.credential("addresses") or "").lower().split(",") if a)


def mailboxes_of(slug: str, account: ChannelAccount, imap_url: str, password: str,
                 locale: Locale = "ro") -> list[Mailbox]:
    """The tenant's addresses to read: on its own server with its own login when its Secret
    names them (`imapUrl`, `username`, `password`), else on the platform's."""
    url = account.credential("imapUrl") or imap_url
    secret = account.credential("password") or password
    if not url or not secret:
        return []
    return [Mailbox(slug, address, url, account.credential("username") or address, secret,
                    locale) for address in addresses_of(account)]
