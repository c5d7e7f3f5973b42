"""Kafka users and what they may do: SCRAM credentials and ACLs, set through Kafka's admin API
by a super user (the operator's admin). A tenant's user reads its inbound topic, writes its
outbound and events topics and joins only its own consumer groups; each platform runtime has a
user with the least it needs (`PLATFORM_GRANTS`)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import for_code

from simptu.runtime.core.events.security_requests import (
    AlterScram,
    CreateAcls,
    DeleteAcls,
    DescribeAcls,
)
from simptu.runtime.core.tenancy import TenantNames

# Kafka's enums (org.apache.kafka.common.acl / resource / ScramMechanism).
ANY, TOPIC, GROUP = 1, 2, 3
LITERAL, PREFIXED = 3, 4
READ, WRITE, DESCRIBE = 3, 4, 8
ALLOW = 3
OPERATION_NAMES = {READ: "Read", WRITE: "Write", DESCRIBE: "Describe"}  # Strimzi's spelling
SCRAM_MECHANISMS = {"SCRAM-SHA-256": (1, "sha256"), "SCRAM-SHA-512": (2, "sha512")}
SCRAM_ITERATIONS = 4096  # Kafka's minimum for both mechanisms
RESOURCE_NOT_FOUND = 91  # deleting a credential that is not there
AGENT_GROUP = "simptu-agent"


class KafkaSecurityError(RuntimeError):
    """The broker refused a credential or ACL change; the message says which and why."""


@dataclass(frozen=True, order=True)
class Grant:
    """One ALLOW ACL of a user: `operation` on a topic or group, named exactly or by prefix."""

    resource_type: int
    name: str
    operation: int
    pattern: int = LITERAL


def tenant_user(tenant: TenantNames) -> str:
    return f"tenant-{tenant.slug}"


def tenant_users(tenant: TenantNames) -> tuple[str, str]:
    """The tenant's two users, which a password rotation alternates between (the pods of the
    previous template keep theirs until they are gone); a slug has no dot, so no other
    tenant's user is named like the second."""
    return tenant_user(tenant), f"{tenant_user(tenant)}.2"


def agent_group(tenant: TenantNames) -> str:
    """The consumer group of a tenant's agent, which only its user may join."""
    return f"{AGENT_GROUP}.{tenant.slug}"


def tenant_grants(tenant: TenantNames) -> list[Grant]:
    # Every ACL names its resource exactly: a prefix `simptu-agent.clinic` would also let the
    # tenant `clinic` join `simptu-agent.clinic2`, the group of the tenant `clinic2`, and take
    # partitions from its agent.
    return [Grant(TOPIC, tenant.topic("inbound"), READ),
            Grant(TOPIC, tenant.topic("outbound"), WRITE),
            Grant(TOPIC, tenant.topic("events"), WRITE),
            Grant(GROUP, agent_group(tenant), READ)]


def _every_tenant(operation: int) -> Grant:
    return Grant(TOPIC, "simptu.", operation, PREFIXED)


# The platform's runtimes, each its own user: the relay, API and hub publish (the outbox, a
# message posted), the hub reads every outbound topic without a group, the channel senders
# and platform mail consume outbound and events in their groups, the local `--all` agent
# worker does what every tenant's agent does. Listing topics needs DESCRIBE (READ implies it).
PLATFORM_GRANTS: dict[str, list[Grant]] = {
    "simptu-relay": [_every_tenant(WRITE)],
    "simptu-api": [_every_tenant(WRITE)],
    "simptu-ws": [_every_tenant(WRITE), _every_tenant(READ)],
    # `simptu-channel` covers the senders' group (`simptu-channel-senders`) and `simptu-channels*`.
    "simptu-channels": [_every_tenant(READ), Grant(GROUP, "simptu-channel", READ, PREFIXED),
                        Grant(GROUP, "simptu-platform-mail", READ, PREFIXED)],
    "simptu-agent": [_every_tenant(READ), _every_tenant(WRITE),
                     Grant(GROUP, AGENT_GROUP, READ, PREFIXED)],
}


def new_password() -> str:
    return secrets.token_urlsafe(24)


def _salted(mechanism: str, password: str) -> tuple[int, bytes, bytes]:
    """SCRAM's SaltedPassword (RFC 5802: PBKDF2 with the mechanism's hash): the broker keeps
    only keys derived from it, so the password itself never leaves this process."""
    code, digest = SCRAM_MECHANISMS[mechanism]
    salt = secrets.token_bytes(32)
    return code, salt, hashlib.pbkdf2_hmac(digest, password.encode(), salt, SCRAM_ITERATIONS)


async def upsert_credential(admin: AIOKafkaAdminClient, user: str, password: str,
                            mechanism: str) -> None:
    """Create the user's credential or replace it (a rotation): logins with the old password
    are refused from now on; connections already authenticated stay up."""
    code, salt, salted = _salted(mechanism, password)
    response = await _send(admin, AlterScram([], [(user, code, SCRAM_ITERATIONS, salt, salted,
                                                   {})]))
    _raise_errors("set the SCRAM credential of", response["results"])


async def delete_credential(admin: AIOKafkaAdminClient, user: str, mechanism: str) -> None:
    """Idempotent: a user without a credential is already deleted."""
    code = SCRAM_MECHANISMS[mechanism][0]
    response = await _send(admin, AlterScram([(user, code, {})], []))
    results = [r for r in response["results"] if r["error_code"] != RESOURCE_NOT_FOUND]
    _raise_errors("delete the SCRAM credential of", results)


async def delete_user(admin: AIOKafkaAdminClient, user: str, mechanism: str) -> None:
    """The user's credential and every ACL of it: it can no longer log in, nor would a user
    made again under its name inherit its rights. Idempotent."""
    await delete_credential(admin, user, mechanism)
    await revoke_all(admin, user)


async def grant(admin: AIOKafkaAdminClient, user: str, grants: list[Grant]) -> None:
    """Create the ALLOW ACLs (creating one that exists is a no-op for Kafka)."""
    response = await _send(admin, CreateAcls([_acl(user, g) for g in grants]))
    _raise_errors(f"create ACLs of {user}:", response["results"])


async def granted(admin: AIOKafkaAdminClient, user: str) -> set[Grant]:
    """The ALLOW ACLs the broker holds for the user."""
    response = await _send(admin, DescribeAcls((ANY, None, ANY, f"User:{user}", None, ANY,
                                                ANY)))
    _raise_errors(f"describe ACLs of {user}:", [response])
    return {Grant(r["resource_type"], r["resource_name"], acl["operation"], r["pattern_type"])
            for r in response["resources"] for acl in r["acls"]
            if acl["permission_type"] == ALLOW}


async def revoke_all(admin: AIOKafkaAdminClient, user: str,
                     keep: list[Grant] | None = None) -> None:
    """Delete the user's ACLs, except those in `keep` (an ACL the user should not have)."""
    stale = await granted(admin, user) - set(keep or [])
    if not stale:
        return
    response = await _send(admin, DeleteAcls([_acl(user, g) for g in sorted(stale)]))
    _raise_errors(f"delete ACLs of {user}:", response["filter_results"])


def _acl(user: str, g: Grant) -> tuple[object, ...]:
    """One ALLOW ACL as the requests carry it (from any host; no tagged fields)."""
    return (g.resource_type, g.name, g.pattern, f"User:{user}", "*", g.operation, ALLOW, {})


async def ensure_tenant_user(admin: AIOKafkaAdminClient, tenant: TenantNames, password: str,
                             mechanism: str, user: str | None = None) -> str:
    """A user of the tenant's (its first unless named) with this password and exactly its
    grants; returns its name."""
    user = user or tenant_user(tenant)
    grants = tenant_grants(tenant)
    await upsert_credential(admin, user, password, mechanism)
    await revoke_all(admin, user, keep=grants)
    await grant(admin, user, grants)
    return user


async def _send(admin: AIOKafkaAdminClient, request: Any) -> dict[str, Any]:
    # The admin client's own connection (authenticated as the admin) and version negotiation;
    # brokers forward these to the KRaft controller.
    response = await admin._send_request(request)
    result: dict[str, Any] = response.to_object()
    return result


def _raise_errors(action: str, results: list[dict[str, Any]]) -> None:
    failed = [r for r in results if r["error_code"]]
    if failed:
        first = failed[0]
        reason = first.get("error_message") or for_code(first["error_code"]).__name__
        who = first.get("user", "")
        raise KafkaSecurityError(f"could not {action} {who}: {reason}".replace("  ", " "))
