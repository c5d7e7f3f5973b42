"""A tenant's Redis ACL user: its rules name only its own keys and channels, and the agent's
Secret carries the platform's address with the tenant's user, never the platform's password."""

from __future__ import annotations

from urllib.parse import urlsplit

from simptu.operator import redis_acl
from simptu.runtime.core.crypto.purge import purge_channel
from simptu.runtime.core.tenancy import TenantNames
from simptu.runtime.core.tenant_cache import TenantCache, invalidations_channel

TENANT = TenantNames("clinic-a")
PLATFORM_URL = "redis://default:platform-secret@127.0.0.1:56379/0"


def test_the_rules_allow_the_tenants_keys_and_channels_and_the_agents_commands_only() -> None:
    rules = redis_acl.rules(TENANT, ["ab" * 32])
    assert rules[:3] == ["reset", "on", f"#{'ab' * 32}"]
    keys = [rule for rule in rules if "~" in rule]
    assert keys == ["%R~simptu:registry:clinic-a", "~simptu:cache:{clinic-a}:*"]
    channels = [rule for rule in rules if rule.startswith("&")]
    assert channels == ["&simptu:cache:{clinic-a}:invalidated",
                        "&simptu:crypto:{clinic-a}:purge"]
    granted = {rule[1:] for rule in rules if rule.startswith("+")}
    assert "-@all" in rules
    assert not granted & {"keys", "scan", "flushall", "flushdb", "config", "acl", "eval",
                          "@dangerous", "@all"}


def test_the_tenants_channels_are_the_ones_its_agent_uses() -> None:
    cache = TenantCache(None, TENANT)  # type: ignore[arg-type]  # only names are asked
    assert cache.channel == invalidations_channel(TENANT)
    assert cache.key("history:x").startswith("simptu:cache:{clinic-a}:")
    assert purge_channel("clinic-a") == "simptu:crypto:{clinic-a}:purge"


def test_the_agents_url_keeps_the_address_and_drops_the_platforms_password() -> None:
    url = redis_acl.tenant_url(PLATFORM_URL, TENANT, "new/pass+word")
    parts = urlsplit(url)
    assert (parts.hostname, parts.port, parts.path) == ("127.0.0.1", 56379, "/0")
    assert parts.username == "tenant-clinic-a"
    assert "platform-secret" not in url


def test_a_rotation_keeps_the_old_password_until_it_is_retired() -> None:
    rotating = redis_acl.Credentials("new", redis_acl.sha256_hex("old"), "2")
    assert rotating.hashes == [redis_acl.sha256_hex("new"), redis_acl.sha256_hex("old")]
    secret = rotating.secret(TENANT, PLATFORM_URL)
    assert secret.name == "agent-redis"
    assert secret.annotations == {redis_acl.ROTATION: "2",
                                  redis_acl.RETIRING: redis_acl.sha256_hex("old")}
    settled = redis_acl.Credentials("new", None, "2").secret(TENANT, PLATFORM_URL)
    assert settled.annotations == {redis_acl.ROTATION: "2"}
    assert settled.values == secret.values  # retiring the old one does not roll the pods
