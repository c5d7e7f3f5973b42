"""A tenant's Redis ACL user (`tenant-<slug>`): the only way its agent pods reach Redis, limited
to the tenant's keys and channels and to the commands the agent sends, with a random password
that the operator rotates and hands to the pods as the Secret `agent-redis` in the tenant's
namespace. The platform's own clients keep their connection (the default user).

What the agent touches (runtime/agent, through runtime/core), and so all the user may do:
- `simptu:registry:<slug>`, read only: its routing record's cache (a written record would steer
  the shared runtimes; the registry skips the write it is refused);
- `simptu:cache:{<slug>}:*`: its cached history pages, forgotten after a reply (MULTI, DEL,
  HSET, EXPIRE, EXEC), announced on `simptu:cache:{<slug>}:invalidated`;
- `simptu:crypto:{<slug>}:purge`: its key changes, subscribed to by its key ring;
- PING: readiness and the client's health checks.

Redis keeps ACL users in memory (the local stack has no aclfile, a managed Redis may offer
none): every reconcile sets the user again from the Secret (idempotent), and `check` reports a
missing one, so a restarted Redis has its users back at the next reconcile or drift check.

Rotation (the Tenant's annotation `simptu.io/redis-password-rotation` set to a new value): the
user takes a second password, the Secret the new one, and the agent's pods roll (the pod
template carries a digest of the Secret); the old password is dropped once no pod of the old
template is left. A pod that stops mid-turn leaves its message uncommitted in Kafka: the new pod
answers it, so no reply is lost.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import redis.asyncio as aioredis

from simptu.operator.kube_objects import KubeObjects
from simptu.operator.workloads import TenantSecret, rolled_out
from simptu.runtime.core.crypto.purge import purge_channel
from simptu.runtime.core.registry import registry_cache_key
from simptu.runtime.core.tenancy import TenantNames
from simptu.runtime.core.tenant_cache import PREFIX, invalidations_channel

SECRET = "agent-redis"  # noqa: S105 - a Secret's name
URL_KEY = "SIMPTU_REDIS_URL"
ROTATE_ANNOTATION = "simptu.io/redis-password-rotation"  # any new value: a new password
# On the Secret: the rotation request it answers, and the SHA-256 of the password the pods of
# the previous template may still use (never the password itself).
ROTATION = "simptu.io/redis-rotation"
RETIRING = "simptu.io/redis-retiring-password"
# No @dangerous, no KEYS/SCAN/FLUSH*/CONFIG/ACL/EVAL: only what the agent sends. AUTH is
# always allowed; CLIENT SETINFO, which redis-py sends on connecting, is refused and ignored.
COMMANDS = ("ping", "get", "set", "del", "hset", "expire", "multi", "exec", "discard",
            "publish", "subscribe", "unsubscribe", "punsubscribe")


def user_name(tenant: TenantNames) -> str:
    return f"tenant-{tenant.slug}"


def rules(tenant: TenantNames, password_hashes: list[str]) -> list[str]:
    """The user's whole ACL, from a clean slate (`reset`): applying it twice changes nothing."""
    return ["reset", "on", *(f"#{digest}" for digest in password_hashes),
            f"%R~{registry_cache_key(tenant.slug)}", f"~{PREFIX}:{{{tenant.slug}}}:*",
            f"&{invalidations_channel(tenant)}", f"&{purge_channel(tenant.slug)}",
            "-@all", *(f"+{command}" for command in COMMANDS)]


def sha256_hex(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def tenant_url(platform_url: str, tenant: TenantNames, password: str) -> str:
    """The platform's Redis address (scheme, host, port, database) with the tenant's user."""
    parts = urlsplit(platform_url)
    host = parts.hostname or "localhost"
    netloc = f"{quote(user_name(tenant))}:{quote(password, safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass(frozen=True)
class Credentials:
    """The tenant's password now, the hash of the one being retired, and the rotation request
    it answers: what the Secret holds and the user accepts."""

    password: str
    retiring: str | None
    rotation: str

    def secret(self, tenant: TenantNames, platform_url: str) -> TenantSecret:
        annotations = {ROTATION: self.rotation, **({RETIRING: self.retiring}
                                                   if self.retiring else {})}
        return TenantSecret(SECRET, {URL_KEY: tenant_url(platform_url, tenant, self.password)},
                            annotations)

    @property
    def hashes(self) -> list[str]:
        return [sha256_hex(self.password), *([self.retiring] if self.retiring else [])]


def _secret_ref(tenant: TenantNames) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": SECRET, "namespace": tenant.namespace}}


async def _stored(objects: KubeObjects, tenant: TenantNames) -> Credentials | None:
    found = await objects.get(_secret_ref(tenant))
    url = ((found or {}).get("data") or {}).get(URL_KEY)
    if found is None or url is None:
        return None
    password = unquote(urlsplit(base64.b64decode(url).decode()).password or "")
    annotations = found["metadata"].get("annotations") or {}
    return Credentials(password, annotations.get(RETIRING), annotations.get(ROTATION, ""))


def _new_password() -> str:
    return secrets.token_urlsafe(32)


async def ensure(redis: aioredis.Redis, objects: KubeObjects, tenant: TenantNames,
                 tenant_body: dict[str, Any]) -> Credentials:
    """The user as the Secret says: a new password for a new tenant or when the Tenant asks
    for a rotation (the old one kept until the pods have rolled), the old one dropped once no
    pod of the previous template is left. Returns what the Secret must hold (applied with the
    agent's objects)."""
    asked = (tenant_body["metadata"].get("annotations") or {}).get(ROTATE_ANNOTATION, "")
    stored = await _stored(objects, tenant)
    if stored is None:
        credentials = Credentials(_new_password(), None, asked)
    elif stored.rotation != asked:
        credentials = Credentials(_new_password(), sha256_hex(stored.password), asked)
    elif stored.retiring is not None and await rolled_out(objects, tenant):
        credentials = Credentials(stored.password, None, stored.rotation)
    else:
        credentials = stored
    await redis.execute_command(  # type: ignore[no-untyped-call]
        "ACL", "SETUSER", user_name(tenant), *rules(tenant, credentials.hashes))
    return credentials


async def check(redis: aioredis.Redis, tenant: TenantNames,
                credentials: Credentials) -> str | None:
    """What is wrong with the tenant's user, or None."""
    user = await redis.acl_getuser(user_name(tenant))
    if not user:
        return f"Redis ACL user {user_name(tenant)} is missing"
    if "on" not in cast("list[str]", user["flags"]):
        return f"Redis ACL user {user_name(tenant)} is disabled"
    if not set(credentials.hashes) <= set(cast("list[str]", user["passwords"])):
        return f"Redis ACL user {user_name(tenant)} does not accept the password of {SECRET}"
    return None


async def remove(redis: aioredis.Redis, tenant: TenantNames) -> None:
    """Delete the user: its password is refused and its open connections are closed."""
    await redis.acl_deluser(user_name(tenant))
