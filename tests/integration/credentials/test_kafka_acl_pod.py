"""From inside a tenant's real agent pod on the stack's SASL broker, with its own Secret
`agent-kafka`: it logs in as its own user, sees only its own topics and reads its inbound
topic; another tenant's topics and groups (also one whose slug begins with its own), its own
inbound topic for writing and creating topics are refused by the broker itself; the Kafka
admin's password is nowhere in the tenant's namespace. Nothing is written to a real topic:
the agent's own writes are the conversations of test_*_lifecycle.py."""

from __future__ import annotations

from kubernetes import client as k8s

from simptu.devstack.envfile import StackEnv
from simptu.devstack.services.operator import demo_slugs
from simptu.runtime.core.events import kafka_users
from simptu.runtime.core.tenancy import TenantNames
from tests.integration.credentials.redis_acl_pods import namespace_text, ready_agent_pod, run_in_pod

# Run in the agent's pod: each call as the pod's Kafka user, "ok" or the refusal's kind.
PROBE = r"""
import asyncio, json, os, sys
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, for_code
from simptu.runtime.core.kafka_access import KafkaAccess

own, other, longer_group = sys.argv[1], sys.argv[2], sys.argv[3]
# The pod's own login, as its agent builds its clients.
access = KafkaAccess(os.environ["SIMPTU_KAFKA_BOOTSTRAP"],
                     os.environ["SIMPTU_KAFKA_SASL_MECHANISM"],
                     os.environ["SIMPTU_KAFKA_USERNAME"], os.environ["SIMPTU_KAFKA_PASSWORD"])
login = access.client_options()

async def outcome(call):
    try:
        async with asyncio.timeout(60):
            await call()
        return "ok"
    except KafkaError as error:
        return type(error).__name__

async def topics_seen():
    consumer = AIOKafkaConsumer(**login)
    await consumer.start()
    try:
        return sorted(await consumer.topics())
    finally:
        await consumer.stop()

def read(topic, group=None):
    # Without a group the consumer takes every partition itself (the agent's group is never
    # joined: that would take partitions from the running agent).
    async def call():
        consumer = AIOKafkaConsumer(topic, **login, group_id=group, enable_auto_commit=False,
                                    auto_offset_reset="earliest")
        try:
            await consumer.start()  # refused topics and groups fail here, or at a getmany
            for _ in range(6):
                await consumer.getmany(timeout_ms=500)
        finally:
            await consumer.stop()
    return call

def write(topic):
    async def call():
        producer = AIOKafkaProducer(**login, request_timeout_ms=10_000)
        await producer.start()
        try:
            await producer.send_and_wait(topic, b"not yours")
        finally:
            await producer.stop()
    return call

async def create_topic():
    admin = AIOKafkaAdminClient(**login)
    await admin.start()
    try:
        response = await admin.create_topics([NewTopic(f"simptu.{own}.extra", 1, 1)])
        for _, code, *_ in response.topic_errors:
            if code:
                raise for_code(code)()
    finally:
        await admin.close()

async def main():
    results = {"user": access.username, "topics": await topics_seen()}
    for name, call in {
        "read own inbound": read(f"simptu.{own}.inbound"),
        "read other inbound": read(f"simptu.{other}.inbound"),
        "read other outbound": read(f"simptu.{other}.outbound"),
        "join other group": read(f"simptu.{own}.inbound", f"simptu-agent.{other}"),
        "join longer group": read(f"simptu.{own}.inbound", longer_group),
        "write own inbound": write(f"simptu.{own}.inbound"),
        "write other outbound": write(f"simptu.{other}.outbound"),
        "write other events": write(f"simptu.{other}.events"),
        "create topic": create_topic,
    }.items():
        results[name] = await outcome(call)
    print(json.dumps(results))

asyncio.run(main())
"""


def test_the_agent_pod_reaches_its_own_topics_only(kube: k8s.ApiClient,
                                                   stack: StackEnv) -> None:
    assert stack.kafka.mechanism, "the stack's broker has SASL logins (SIMPTU_KAFKA_SASL)"
    own, other = (TenantNames(slug) for slug in demo_slugs()[:2])
    pod = ready_agent_pod(kube, own.slug)
    assert pod is not None, f"no ready agent pod of {own.slug}"
    longer = kafka_users.agent_group(TenantNames(f"{own.slug}2"))
    found = run_in_pod(stack, pod, PROBE, own.slug, other.slug, longer)
    assert found == {
        "user": kafka_users.tenant_user(own),
        "topics": sorted(own.topic(stream) for stream in ("events", "inbound", "outbound")),
        "read own inbound": "ok",
        "read other inbound": "TopicAuthorizationFailedError",
        "read other outbound": "TopicAuthorizationFailedError",
        "join other group": "GroupAuthorizationFailedError",
        "join longer group": "GroupAuthorizationFailedError",
        "write own inbound": "TopicAuthorizationFailedError",
        "write other outbound": "TopicAuthorizationFailedError",
        "write other events": "TopicAuthorizationFailedError",
        "create topic": "TopicAuthorizationFailedError",
    }


def test_the_kafka_admins_password_is_nowhere_in_a_tenants_namespace(
        kube: k8s.ApiClient, stack: StackEnv) -> None:
    slug = demo_slugs()[0]
    pod = ready_agent_pod(kube, slug)
    assert pod is not None, f"no ready agent pod of {slug}"
    admin_password = stack.kafka.password
    assert admin_password, "the stack's broker has SASL logins"
    text = namespace_text(kube, stack, pod)
    assert kafka_users.tenant_user(TenantNames(slug)) in text  # the pod's own login
    assert admin_password not in text
