"""Kafka with SASL/SCRAM-SHA-512 and ACLs against plaintext: per-message latency (an inbound
event produced by the relay's user, read by the tenant's agent user in its group, as in a
conversation), and the time the tenant's Kafka user adds to its provisioning (SCRAM credential
upserted, ACLs reconciled and checked: operator/kafka.py's ensure_user and check_user). Two
private one-node brokers made by devstack's own code (tests/integration/credentials/
sasl_kafka.py), started together and measured in alternating rounds; the shared stack is not
touched. Prints a markdown table.

    .venv/bin/python bench/bench_kafka_auth.py [--messages 300] [--tenants 20]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
from contextlib import AsyncExitStack
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the private broker is in tests/

from simptu.runtime.core.events import kafka_users
from simptu.runtime.core.events.topics import TopicSettings, ensure_tenant_topics, kafka_admin
from simptu.runtime.core.kafka_access import KafkaAccess
from simptu.runtime.core.tenancy import TenantNames
from tests.integration.credentials.sasl_kafka import SaslKafka, sasl_kafka

ROUNDS = 3
WAIT = 60.0  # a failsafe on one message's arrival


async def _tenant(broker: SaslKafka, slug: str) -> tuple[TenantNames, KafkaAccess]:
    names = TenantNames(slug)
    async with kafka_admin(broker.admin) as admin:
        await ensure_tenant_topics(admin, names, TopicSettings(partitions=1))
        if not broker.admin.mechanism:
            return names, broker.admin
        password = kafka_users.new_password()
        user = await kafka_users.ensure_tenant_user(admin, names, password,
                                                    broker.admin.mechanism)
    return names, broker.admin.as_user(user, password)


async def latencies(broker: SaslKafka, slug: str, messages: int) -> list[float]:
    """Seconds from send to the agent's fetch, one message at a time."""
    names, agent = await _tenant(broker, slug)
    relay = broker.platform_user("simptu-relay")  # the admin itself on a plaintext broker
    topic = names.topic("inbound")
    producer = AIOKafkaProducer(**relay.client_options(), enable_idempotence=True, linger_ms=0)
    reader = AIOKafkaConsumer(topic, **agent.client_options(),
                              group_id=kafka_users.agent_group(names),
                              auto_offset_reset="latest", fetch_max_wait_ms=100)
    found = []
    async with AsyncExitStack() as stack:
        await producer.start()
        stack.push_async_callback(producer.stop)
        await reader.start()
        stack.push_async_callback(reader.stop)
        while not reader.assignment():  # joined its group: the first message is not lost
            await reader.getmany(timeout_ms=100)
        await reader.seek_to_end()
        for n in range(messages):
            started = time.perf_counter()
            await producer.send_and_wait(topic, str(n).encode())
            async with asyncio.timeout(WAIT):
                while not await reader.getmany(timeout_ms=1000):
                    pass
            found.append(time.perf_counter() - started)
    return found


async def provisioning(broker: SaslKafka, prefix: str, tenants: int) -> list[float]:
    """Seconds the operator's Kafka-user steps take per tenant (its admin connection included)."""
    found = []
    for n in range(tenants):
        names = TenantNames(f"{prefix}-{n}")
        started = time.perf_counter()
        async with kafka_admin(broker.admin) as admin:
            user = await kafka_users.ensure_tenant_user(admin, names, kafka_users.new_password(),
                                                        broker.admin.mechanism)
            assert await kafka_users.granted(admin, user) == set(kafka_users.tenant_grants(names))
        found.append(time.perf_counter() - started)
    return found


def _ms(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


async def main(messages: int, tenants: int) -> None:
    async with sasl_kafka(sasl=False) as plain, sasl_kafka() as scram:
        found: dict[str, list[float]] = {"plaintext": [], "SCRAM-SHA-512 + ACLs": []}
        for round_ in range(ROUNDS):  # alternating, so the machine's load hits both alike
            found["plaintext"] += await latencies(plain, f"bench-plain-{round_}", messages)
            found["SCRAM-SHA-512 + ACLs"] += await latencies(scram, f"bench-scram-{round_}",
                                                             messages)
        provision = await provisioning(scram, "bench-user", tenants)
    base = statistics.median(found["plaintext"])
    print("| Kafka | messages | p50 ms | p95 ms | p50 vs plaintext |\n|---|---|---|---|---|")
    for name, values in found.items():
        print(f"| {name} | {len(values)} | {_ms(values, 50):.2f} | {_ms(values, 95):.2f} | "
              f"{statistics.median(values) / base:.2f}x |")
    print(f"\n| tenant's Kafka user (upsert SCRAM, reconcile and check ACLs) | tenants | p50 ms "
          f"| p95 ms |\n|---|---|---|---|\n| provisioning added | {len(provision)} | "
          f"{_ms(provision, 50):.1f} | {_ms(provision, 95):.1f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=300, help="messages per round and broker")
    parser.add_argument("--tenants", type=int, default=20, help="tenants' users provisioned")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(main(args.messages, args.tenants))
