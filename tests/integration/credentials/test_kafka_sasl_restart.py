"""The local SASL broker restarted after a user's credential was deleted still lets every user
log in. Kafka 4.1 replaying its whole metadata log onto an empty image drops every SCRAM
credential when the first change it meets is a removal (ScramDelta.apply); devstack's broker
takes a metadata snapshot every few seconds, and replayed onto a snapshot the image never
starts empty. The removed user's name is chosen to come first in that replay (Java's HashMap
order: bucket 0 for tables of 16 to 128), which made every restart refuse every login."""

from __future__ import annotations

import asyncio
from pathlib import Path

from simptu.devstack.services.kafka import ADMIN_USER
from simptu.runtime.core.events import kafka_users
from simptu.runtime.core.events.topics import kafka_admin
from tests.integration.credentials.redis_acl_pods import until
from tests.integration.credentials.sasl_kafka import login, sasl_kafka

FIRST_IN_REPLAY = "tenant-gone-4"  # String.hashCode spread: bucket 0 of every table up to 128
FAILSAFE = 120.0  # bounds the wait for a snapshot; never an assertion of speed


def _java_bucket(name: str, size: int) -> int:
    code = 0
    for char in name:
        code = (31 * code + ord(char)) & 0xFFFFFFFF
    return (code ^ (code >> 16)) & (size - 1)


def _newest_snapshot(metadata: Path) -> int:
    """The offset of the broker's newest metadata snapshot (`<offset>-<epoch>.checkpoint`), or
    -1 without one."""
    return max((int(path.stem.split("-")[0]) for path in metadata.glob("*.checkpoint")),
               default=-1)


async def test_a_restarted_broker_keeps_every_login_after_a_users_removal() -> None:
    assert all(_java_bucket(FIRST_IN_REPLAY, size) == 0 for size in (16, 32, 64, 128))
    async with sasl_kafka() as broker:
        metadata = broker.ctx.folder("kafka") / "data" / "__cluster_metadata-0"
        before = _newest_snapshot(metadata)
        async with kafka_admin(broker.admin) as admin:
            await kafka_users.upsert_credential(admin, FIRST_IN_REPLAY, "a-password-1234",
                                                broker.admin.mechanism)
            await kafka_users.delete_user(admin, FIRST_IN_REPLAY, broker.admin.mechanism)
        # The snapshot the broker writes within SNAPSHOT_INTERVAL_MS of the removal.
        await asyncio.wait_for(until(lambda: _newest_snapshot(metadata) > before), FAILSAFE)
        broker.runtime.stop()
        await broker.runtime.start()  # its readiness probe logs in as the admin
        for user in (ADMIN_USER, "simptu-relay", "simptu-agent"):
            await login(broker.platform_user(user))
