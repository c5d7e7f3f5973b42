"""From inside a tenant's real agent pod, with its own Redis Secret: its keys and channels work;
another tenant's keys and channels, and Redis' dangerous commands, are refused by Redis itself
(NOPERM); the platform's Redis password is nowhere in the tenant's namespace."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import yaml
from kubernetes import client as k8s

from simptu.devstack.envfile import StackEnv
from tests.integration.credentials.redis_acl_pods import (
    namespace_text,
    ready_agent_pod,
    run_in_pod,
)

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "tenants"
# Two demo tenants, each served by its own agent pod on the stack's node.
OWN, OTHER = sorted(yaml.safe_load(path.read_text())["metadata"]["name"]
                    for path in EXAMPLES.glob("*.yaml"))[:2]

# Run in the agent's pod: each Redis call as the pod's user, "ok" or the refusal's kind.
PROBE = r"""
import json, os, sys, uuid
import redis

own, other = os.environ["SIMPTU_AGENT_TENANT"], sys.argv[1]
client = redis.Redis.from_url(os.environ["SIMPTU_REDIS_URL"])
session = uuid.uuid4()

def outcome(call):
    try:
        call()
        return "ok"
    except redis.exceptions.NoPermissionError:
        return "NOPERM"
    except redis.exceptions.RedisError as error:
        return f"{type(error).__name__}: {error}"

def forget(slug):  # what the agent does after a reply: its history pages forgotten
    def call():
        key = f"simptu:cache:{{{slug}}}:history:{session}"
        with client.pipeline(transaction=True) as pipe:
            pipe.delete(key).hset(key, "~generation", "1").expire(key, 5)
            pipe.publish(f"simptu:cache:{{{slug}}}:invalidated", key).execute()
    return call

def listen(slug):  # what its key ring does: its tenant's key changes
    def call():
        pubsub = client.pubsub()
        pubsub.subscribe(f"simptu:crypto:{{{slug}}}:purge")
        while (message := pubsub.get_message(timeout=5)) is None:
            pass
        assert message["type"] == "subscribe", message
        pubsub.close()
    return call

results = {
    "user": client.connection_pool.connection_kwargs["username"],
    "ping": outcome(client.ping),
    "read own registry": outcome(lambda: client.get(f"simptu:registry:{own}")),
    "forget own history": outcome(forget(own)),
    "listen own key changes": outcome(listen(own)),
    "write own registry": outcome(lambda: client.set(f"simptu:registry:{own}", "{}")),
    "read other registry": outcome(lambda: client.get(f"simptu:registry:{other}")),
    "read other cache": outcome(lambda: client.get(f"simptu:cache:{{{other}}}:x")),
    "forget other history": outcome(forget(other)),
    "listen other key changes": outcome(listen(other)),
    "announce other key change": outcome(
        lambda: client.publish(f"simptu:crypto:{{{other}}}:purge", "{}")),
    "keys": outcome(lambda: client.keys("*")),
    "scan": outcome(lambda: client.scan(0)),
    "flushall": outcome(client.flushall),
    "config": outcome(lambda: client.config_get("requirepass")),
    "acl": outcome(client.acl_list),
    "eval": outcome(lambda: client.eval("return 1", 0)),
    "client list": outcome(client.client_list),
    "save": outcome(client.bgsave),
}
print(json.dumps(results))
"""

ALLOWED = ("ping", "read own registry", "forget own history", "listen own key changes")
REFUSED = ("write own registry", "read other registry", "read other cache",
           "forget other history", "listen other key changes", "announce other key change",
           "keys", "scan", "flushall", "config", "acl", "eval", "client list", "save")


def test_the_agent_pod_reaches_its_own_keys_and_channels_only(
        kube: k8s.ApiClient, stack: StackEnv) -> None:
    pod = ready_agent_pod(kube, OWN)
    assert pod is not None, f"no ready agent pod of {OWN}"
    found = run_in_pod(stack, pod, PROBE, OTHER)
    assert found == {"user": f"tenant-{OWN}", **dict.fromkeys(ALLOWED, "ok"),
                     **dict.fromkeys(REFUSED, "NOPERM")}


def test_the_platforms_redis_password_is_nowhere_in_a_tenants_namespace(
        kube: k8s.ApiClient, stack: StackEnv) -> None:
    platform_password = urlsplit(stack["SIMPTU_REDIS_URL"]).password
    assert platform_password
    pod = ready_agent_pod(kube, OWN)
    assert pod is not None, f"no ready agent pod of {OWN}"
    text = namespace_text(kube, stack, pod)
    assert f"tenant-{OWN}:" in text  # the pod's own Redis URL
    assert platform_password not in text
