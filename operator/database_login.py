"""A tenant's agent logs in to Postgres as a role of its own, delivered as the Secret
`agent-postgres` of the tenant's namespace.

The login `agent_<schema>_<n>` (`n` never reused) is a member of the tenant's role (its schema,
and `SET ROLE` to it) and of `simptu_agents` (its own registry row, platform migration 0005);
nothing else. Rotation never changes a password: it makes a login of a new name with a new
password, so a pooler that remembers a login's SCRAM keys and server connections (PgBouncer
does) never meets a changed or re-created one. The Secret names the new login, the pods roll,
and only once every pod runs with it are the earlier logins dropped (`retire_replaced`): both
stay valid while the pods roll, then the old one is refused.

Rotation is asked for with the Tenant's annotation `simptu.io/rotate-database-login` (any new
value) or comes when the login is older than `SIMPTU_OPERATOR_AGENT_LOGIN_MAX_AGE_DAYS`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

from simptu.operator.kube_objects import KubeObjects
from simptu.runtime.core.database import quote_ident
from simptu.runtime.core.tenancy import TenantNames

log = logging.getLogger(__name__)
SECRET = "agent-postgres"  # noqa: S105 - a Secret's name
ROTATE_ANNOTATION = "simptu.io/rotate-database-login"
ROTATION_KEY = "simptu.io/login-rotation"  # on the Secret: the rotation it was made for
ISSUED_KEY = "simptu.io/login-issued-at"
AGENTS_ROLE = "simptu_agents"
SCRAM_ITERATIONS = 4096  # Postgres' own default


@dataclass(frozen=True)
class AgentLogin:
    login: str
    password: str
    rotation: str  # the Tenant's rotation annotation it was made for
    issued_at: dt.datetime

    def url(self, database_url: str) -> str:
        """`database_url` (the platform's, or where agents connect) with this login instead."""
        parts = urlsplit(database_url)
        host = parts.hostname or ""
        address = f"[{host}]" if ":" in host else host
        netloc = f"{quote(self.login)}:{quote(self.password, safe='')}@{address}"
        if parts.port:
            netloc += f":{parts.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))

    def secret_data(self, database_url: str) -> dict[str, str]:
        """The agent's environment: its URL, and libpq's variables for tools in its pod."""
        return {"SIMPTU_DATABASE_URL": self.url(database_url), "PGUSER": self.login,
                "PGPASSWORD": self.password}

    def secret_annotations(self) -> dict[str, str]:
        return {ROTATION_KEY: self.rotation, ISSUED_KEY: self.issued_at.isoformat()}


def login_prefix(tenant: TenantNames) -> str:
    """Never a tenant role's name (those start with `t_`), never another tenant's login."""
    return f"agent_{tenant.schema.removeprefix('t_')}_"


def scram_verifier(password: str) -> str:
    """The SCRAM-SHA-256 verifier Postgres stores: the password itself never reaches the server
    (nor its statement log)."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, SCRAM_ITERATIONS)
    stored = hashlib.sha256(hmac.digest(salted, b"Client Key", "sha256")).digest()
    server = hmac.digest(salted, b"Server Key", "sha256")
    b64 = base64.b64encode
    return (f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{b64(salt).decode()}"
            f"${b64(stored).decode()}:{b64(server).decode()}")


async def delivered(objects: KubeObjects, tenant: TenantNames) -> AgentLogin | None:
    """The login the tenant's Secret holds now, if any."""
    found = await objects.get({"apiVersion": "v1", "kind": "Secret", "metadata": {
        "name": SECRET, "namespace": tenant.namespace}})
    data = (found or {}).get("data") or {}
    if not data.get("PGUSER") or not data.get("PGPASSWORD"):
        return None
    notes = found["metadata"].get("annotations") or {}  # type: ignore[index]
    issued = notes.get(ISSUED_KEY)
    return AgentLogin(login=base64.b64decode(data["PGUSER"]).decode(),
                      password=base64.b64decode(data["PGPASSWORD"]).decode(),
                      rotation=notes.get(ROTATION_KEY, ""),
                      issued_at=dt.datetime.fromisoformat(issued) if issued
                      else dt.datetime.now(dt.UTC))


async def refusal(login: AgentLogin, database_url: str) -> str | None:
    """None when Postgres accepts the login (a real connection), else its answer."""
    try:
        conn = await asyncpg.connect(login.url(database_url), timeout=10)
    except (asyncpg.InvalidAuthorizationSpecificationError,
            asyncpg.InvalidPasswordError) as error:
        return f"{type(error).__name__}: {error}"
    try:
        user = await conn.fetchval("SELECT current_user")
    finally:
        await conn.close()
    return None if user == login.login else f"logged in as {user!r}"


def _due(current: AgentLogin, rotation: str, max_age: dt.timedelta | None) -> bool:
    if current.rotation != rotation:
        return True
    return max_age is not None and dt.datetime.now(dt.UTC) - current.issued_at > max_age


async def ensure(pool: asyncpg.Pool, objects: KubeObjects, tenant: TenantNames, *,
                 database_url: str, rotation: str,
                 max_age: dt.timedelta | None = None) -> tuple[AgentLogin, str | None]:
    """The login the agent should hold: the delivered one while Postgres accepts it and it is
    not due for rotation, else a new one (its grants repaired either way); and None, or why
    Postgres refuses it (a real login, made here). The caller delivers it."""
    current = await delivered(objects, tenant)
    if (current is not None and current.login.startswith(login_prefix(tenant))
            and not _due(current, rotation, max_age)
            and await refusal(current, database_url) is None):
        async with pool.acquire() as conn:
            await _grant(conn, tenant, current.login)
        return current, None
    made = await create(pool, tenant, rotation)
    log.info("agent login %s made for tenant %s (replaces %s)", made.login, tenant.slug,
             current.login if current else "none", extra={"tenant": tenant.slug})
    return made, await refusal(made, database_url)


async def create(pool: asyncpg.Pool, tenant: TenantNames, rotation: str) -> AgentLogin:
    prefix = login_prefix(tenant)
    async with pool.acquire() as conn, conn.transaction():
        # Two reconciles of one tenant make their logins one after the other.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"login:{tenant.slug}")
        number = await conn.fetchval("SELECT nextval('platform.agent_login_numbers')")
        login = AgentLogin(login=f"{prefix}{number}",
                           password=secrets.token_urlsafe(32), rotation=rotation,
                           issued_at=dt.datetime.now(dt.UTC).replace(microsecond=0))
        verifier = await conn.fetchval("SELECT quote_literal($1)", scram_verifier(login.password))
        await conn.execute(f"CREATE ROLE {quote_ident(login.login)} LOGIN INHERIT "
                           f"PASSWORD {verifier}")
        await _grant(conn, tenant, login.login)
    return login


async def _grant(conn: asyncpg.Connection, tenant: TenantNames, login: str) -> None:
    await conn.execute(f"GRANT {quote_ident(tenant.role)}, {AGENTS_ROLE} TO {quote_ident(login)}")


async def _logins(conn: asyncpg.Connection, tenant: TenantNames) -> list[str]:
    """Every login of the tenant's agent, made by `create` (`<prefix><n>`)."""
    rows = await conn.fetch("SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1) "
                            "AND substr(rolname, length($1) + 1) ~ '^[0-9]+$'",
                            login_prefix(tenant))
    return [row["rolname"] for row in rows]


async def _drop(conn: asyncpg.Connection, login: str) -> None:
    """Its sessions ended, whatever it owns given to nobody (it owns nothing: the agent acts as
    the tenant's role), the role dropped: the login is refused from now on."""
    await conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE usename = $1 AND pid <> pg_backend_pid()", login)
    await conn.execute(f"DROP OWNED BY {quote_ident(login)}")
    await conn.execute(f"DROP ROLE {quote_ident(login)}")


async def retire(pool: asyncpg.Pool, tenant: TenantNames, keep: set[str]) -> list[str]:
    """Drop the tenant's logins not in `keep`; returns the ones dropped."""
    dropped = []
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"login:{tenant.slug}")
        for login in await _logins(conn, tenant):
            if login not in keep:
                await _drop(conn, login)
                dropped.append(login)
    return dropped


def rolled_out(live: dict[str, Any] | None, desired: dict[str, Any]) -> bool:
    """Whether every pod of the agent Deployment runs the template just applied (whose
    annotations carry the digest of the Secrets its pods read when they start)."""
    if live is None:
        return False
    wanted = desired["spec"]["template"]["metadata"].get("annotations") or {}
    running = live["spec"]["template"]["metadata"].get("annotations") or {}
    status = live.get("status") or {}
    updated = int(status.get("updatedReplicas") or 0)
    return (all(running.get(key) == value for key, value in wanted.items())
            and int(status.get("observedGeneration") or 0)
            >= int(live["metadata"].get("generation") or 0)
            and updated >= int(live["spec"].get("replicas") or 0)
            and int(status.get("replicas") or 0) == updated)


async def retire_replaced(pool: asyncpg.Pool, objects: KubeObjects, tenant: TenantNames,
                          current: str, manifests: list[dict[str, Any]]) -> int:
    """Drop the logins `current` replaced once the agent's pods have rolled onto it; returns
    how many are still kept for pods that have not (a later reconcile drops them)."""
    desired = next(body for body in manifests if body["kind"] == "Deployment")
    if not rolled_out(await objects.get(desired), desired):
        return await replaced_logins(pool, tenant, current)
    dropped = await retire(pool, tenant, keep={current})
    if dropped:
        log.info("agent logins %s of tenant %s dropped: its pods log in as %s",
                 ", ".join(dropped), tenant.slug, current, extra={"tenant": tenant.slug})
    return 0


async def replaced_logins(pool: asyncpg.Pool, tenant: TenantNames, current: str) -> int:
    """How many logins of the tenant's agent exist beside `current`."""
    async with pool.acquire() as conn:
        return len(set(await _logins(conn, tenant)) - {current})


async def remove(pool: asyncpg.Pool, tenant: TenantNames) -> None:
    """Every login of the tenant's agent dropped (a deleted tenant can no longer log in)."""
    await retire(pool, tenant, keep=set())
