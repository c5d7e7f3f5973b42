"""Apache Kafka 4 in KRaft mode (one node, broker and controller), jars from Maven Central."""

from __future__ import annotations

import base64
import shutil
import subprocess
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from simptu.devstack.processes import Launch
from simptu.devstack.services.base import Context, NotReady, Service
from simptu.devstack.toolchain.tools import KAFKA

READINESS_TOPIC = "simptu.devstack.readiness"

LOG4J2 = """\
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
"""


class Kafka(Service):
    name = "kafka"

    def bootstrap(self, ctx: Context) -> str:
        return f"{ctx.settings.host}:{ctx.settings.kafka_port}"

    def _java(self) -> str:
        java = shutil.which("java")
        if java is None:
            raise RuntimeError("Kafka needs Java 17 or newer on PATH")
        return java

    def _classpath(self, ctx: Context) -> str:
        return str(ctx.tool_dir(KAFKA) / "libs" / "*")

    def prepare(self, ctx: Context) -> None:
        home = ctx.folder(self.name)
        s = ctx.settings
        controller = f"{s.host}:{s.kafka_controller_port}"
        properties = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{controller}",
            "listeners": f"PLAINTEXT://{self.bootstrap(ctx)},CONTROLLER://{controller}",
            "advertised.listeners": f"PLAINTEXT://{self.bootstrap(ctx)}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(home / "data"),
            "num.partitions": "3",
            # Topics are declared by the operator (or a test), never created by a typo.
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
        }
        (home / "server.properties").write_text(
            "".join(f"{key}={value}\n" for key, value in properties.items()))
        (home / "log4j2.properties").write_text(LOG4J2)
        if not (home / "data" / "meta.properties").exists():
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
            subprocess.run(
                [self._java(), "-cp", self._classpath(ctx), *self._log_opts(home),
                 "kafka.tools.StorageTool", "format", "-t", cluster_id,
                 "-c", str(home / "server.properties")],
                check=True, capture_output=True,
            )

    def _log_opts(self, home: Path) -> list[str]:
        return [f"-Dlog4j2.configurationFile={home / 'log4j2.properties'}"]

    def launch(self, ctx: Context) -> Launch:
        home = ctx.folder(self.name)
        return Launch(argv=[
            self._java(), "-Xms256m", "-Xmx768m", "-XX:+UseG1GC", "-Djava.awt.headless=true",
            *self._log_opts(home), "-cp", self._classpath(ctx),
            "kafka.Kafka", str(home / "server.properties"),
        ])

    async def probe(self, ctx: Context) -> None:
        """A real round trip: the readiness topic exists, and a record produced comes back."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap(ctx), request_timeout_ms=5000)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(READINESS_TOPIC, 1, 1)])
        except TopicAlreadyExistsError:
            pass
        finally:
            await admin.close()
        marker = uuid.uuid4().hex.encode()
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap(ctx), acks="all")
        await producer.start()
        try:
            sent = await producer.send_and_wait(READINESS_TOPIC, marker)
        finally:
            await producer.stop()
        await _read_back(self.bootstrap(ctx), sent.partition, sent.offset, marker)

    def env(self, ctx: Context) -> dict[str, str]:
        return {"SIMPTU_KAFKA_BOOTSTRAP": self.bootstrap(ctx)}

    def endpoint(self, ctx: Context) -> str:
        return self.bootstrap(ctx)


async def _read_back(bootstrap: str, partition: int, offset: int, marker: bytes) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(READINESS_TOPIC, partition)
        consumer.assign([tp])
        consumer.seek(tp, offset)
        batch = await consumer.getmany(tp, timeout_ms=5000, max_records=1)
        values = [record.value for record in batch.get(tp, [])]
        if values != [marker]:
            raise NotReady(f"produced {marker!r} at offset {offset}, read back {values!r}")
    finally:
        await consumer.stop()
