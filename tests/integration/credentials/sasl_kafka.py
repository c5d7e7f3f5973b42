"""A private one-node Kafka with SASL/SCRAM listeners and the StandardAuthorizer, made and
launched by the stack's own code (devstack/services/kafka.py with `kafka_sasl` on: the same
properties, storage format with the admin's SCRAM credential, probe and platform users as
`make up` with SIMPTU_KAFKA_SASL=1), in its own folder on its own ports; the shared stack's
broker is untouched."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiokafka.conn import create_conn

from simptu.devstack.services.base import Context
from simptu.devstack.services.kafka import Kafka
from simptu.devstack.settings import DevstackSettings
from simptu.runtime.core.kafka_access import KafkaAccess
from tests.faults.data_services import ServiceRuntime
from tests.ports import free_port

KAFKA_START_TIMEOUT = 120.0  # the JVM's start on a loaded machine


@dataclass
class SaslKafka:
    """The running broker, and how each of its users reaches it."""

    ctx: Context
    runtime: ServiceRuntime

    @property
    def admin(self) -> KafkaAccess:
        return Kafka().access(self.ctx)

    def platform_user(self, user: str) -> KafkaAccess:
        return Kafka().access(self.ctx, user)


@asynccontextmanager
async def sasl_kafka(sasl: bool = True) -> AsyncIterator[SaslKafka]:
    """The broker, removed afterwards; `sasl=False`: the plaintext one (a benchmark's baseline,
    made the same way)."""
    with tempfile.TemporaryDirectory(prefix="simptu-sasl-kafka-") as made:
        folder = Path(made)
        settings = DevstackSettings().model_copy(update={
            "state_dir": folder, "kafka_port": free_port(),
            "kafka_controller_port": free_port(), "kafka_sasl": sasl})
        ctx = Context(settings)
        service = Kafka()
        runtime = ServiceRuntime(service.name, log=folder / "kafka.log", service=service,
                                 ctx=ctx, start_timeout=KAFKA_START_TIMEOUT)
        await asyncio.to_thread(service.prepare, ctx)
        await runtime.start()
        try:
            await service.configure(ctx)
            yield SaslKafka(ctx, runtime)
        finally:
            runtime.stop()


async def login(access: KafkaAccess) -> None:
    """One connection and its SASL/SCRAM exchange, nothing else: raises what the broker said."""
    host, port = access.bootstrap.rsplit(":", 1)
    conn = await create_conn(host, int(port), security_protocol="SASL_PLAINTEXT",
                             sasl_mechanism=access.mechanism,
                             sasl_plain_username=access.username,
                             sasl_plain_password=access.password, request_timeout_ms=10_000)
    conn.close()
