"""Apache Kafka 4 in KRaft mode (one node, broker and controller), jars from Maven Central."""

from __future__ import annotations

import base64
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any, Final

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from simptu.devstack.processes import Launch
from simptu.devstack.services.base import Context, NotReady, Service
from simptu.devstack.toolchain.tools import KAFKA
from simptu.runtime.core.events.kafka_users import PLATFORM_GRANTS, grant, upsert_credential
from simptu.runtime.core.events.topics import kafka_admin
from simptu.runtime.core.kafka_access import KafkaAccess

READINESS_TOPIC = "simptu.devstack.readiness"
SNAPSHOT_INTERVAL_MS = 10_000
MECHANISM: Final = "SCRAM-SHA-512"
# Super users: the controller's (PLAIN on the controller listener: KRaft cannot check SCRAM
# there, its credentials live in the metadata it serves), the broker's own, and the admin the
# operator and devstack use. Every other user gets only what its ACLs allow.
CONTROLLER_USER, BROKER_USER, ADMIN_USER = "kafka-controller", "kafka-broker", "simptu-admin"

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

    def access(self, ctx: Context, user: str = ADMIN_USER) -> KafkaAccess:
        """How a client reaches the broker: as `user` (the admin unless named) with SASL."""
        if not ctx.settings.kafka_sasl:
            return KafkaAccess(self.bootstrap(ctx))
        return KafkaAccess(self.bootstrap(ctx), MECHANISM, user, self.password(ctx, user))

    def password(self, ctx: Context, user: str) -> str:
        return ctx.secret(f"kafka-{user}")

    def login_env(self, ctx: Context, user: str) -> dict[str, str]:
        """A process's Kafka login as `user` (its own, PLATFORM_GRANTS); none if plaintext."""
        access = self.access(ctx, user)
        if not access.mechanism:
            return {}
        return {"SIMPTU_KAFKA_SASL_MECHANISM": access.mechanism,
                "SIMPTU_KAFKA_USERNAME": access.username, "SIMPTU_KAFKA_PASSWORD": access.password}

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
            **(self._sasl_properties(ctx) if s.kafka_sasl else {}),
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
            # A metadata snapshot every 10 s instead of hourly (kept up to 16 MiB):
            # Kafka 4.1's ScramDelta.apply drops every SCRAM credential when, replaying the
            # whole log onto an empty image, the first change it meets is a user's removal (it
            # removes the emptied mechanism map, then fills the detached one). A restart then
            # refused every login. Replayed onto a snapshot, which holds the super users, the
            # map never empties.
            "metadata.log.max.snapshot.interval.ms": str(SNAPSHOT_INTERVAL_MS),
            "metadata.max.retention.bytes": str(16 * 1024 * 1024),
        }
        (home / "server.properties").write_text(
            "".join(f"{key}={value}\n" for key, value in properties.items()))
        (home / "log4j2.properties").write_text(LOG4J2)
        self._check_format(home, s.kafka_sasl)
        if not (home / "data" / "meta.properties").exists():
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
            subprocess.run(
                [self._java(), "-cp", self._classpath(ctx), *self._log_opts(home),
                 "kafka.tools.StorageTool", "format", "-t", cluster_id,
                 "-c", str(home / "server.properties"), *self._bootstrap_scram(ctx)],
                check=True, capture_output=True,
            )

    def _check_format(self, home: Path, sasl: bool) -> None:
        """The storage keeps the mode it was formatted in: a SASL broker on a store formatted
        without the admin's SCRAM credential would let no one in."""
        marker, wanted = home / "formatted-for", "sasl" if sasl else "plaintext"
        if not (home / "data" / "meta.properties").exists():
            marker.write_text(wanted)
            return
        formatted = marker.read_text().strip() if marker.exists() else "plaintext"
        if formatted != wanted:
            raise RuntimeError(
                f"Kafka's storage in {home} was formatted for {formatted}, SIMPTU_KAFKA_SASL asks "
                f"for {wanted} (SASL is the default): run `make up` with "
                f"SIMPTU_KAFKA_SASL={int(formatted == 'sasl')} to keep it, or `make down` and "
                f"remove {home} to format it again (its topics are lost; the operator makes every "
                "tenant's topics again)")

    def _sasl_properties(self, ctx: Context) -> dict[str, str]:
        """SCRAM on the client listener, PLAIN on the controller's, and the authorizer."""
        controller = f"{ctx.settings.host}:{ctx.settings.kafka_controller_port}"
        plain = self.password(ctx, CONTROLLER_USER)
        return {
            "listeners": f"CLIENT://{self.bootstrap(ctx)},CONTROLLER://{controller}",
            "advertised.listeners": f"CLIENT://{self.bootstrap(ctx)}",
            "listener.security.protocol.map": "CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
            "inter.broker.listener.name": "CLIENT",
            "sasl.enabled.mechanisms": MECHANISM,
            "sasl.mechanism.inter.broker.protocol": MECHANISM,
            "sasl.mechanism.controller.protocol": "PLAIN",
            "listener.name.client.scram-sha-512.sasl.jaas.config": _jaas(
                "scram.ScramLoginModule", BROKER_USER, self.password(ctx, BROKER_USER)),
            "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
            "listener.name.controller.plain.sasl.jaas.config": _jaas(
                "plain.PlainLoginModule", CONTROLLER_USER, plain,
                f'user_{CONTROLLER_USER}="{plain}"'),
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "allow.everyone.if.no.acl.found": "false",
            "super.users": ";".join(f"User:{user}" for user in
                                    (CONTROLLER_USER, BROKER_USER, ADMIN_USER)),
        }

    def _bootstrap_scram(self, ctx: Context) -> list[str]:
        """The broker's and the admin's SCRAM credentials, written into the metadata log when
        the storage is formatted: no one could log in to create them afterwards."""
        if not ctx.settings.kafka_sasl:
            return []
        return [arg for user in (BROKER_USER, ADMIN_USER) for arg in (
            "--add-scram", f"{MECHANISM}=[name={user},password={self.password(ctx, user)}]")]

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
        options = self.access(ctx).client_options()
        admin = AIOKafkaAdminClient(**options, request_timeout_ms=5000)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(READINESS_TOPIC, 1, 1)])
        except TopicAlreadyExistsError:
            pass
        finally:
            await admin.close()
        marker = uuid.uuid4().hex.encode()
        producer = AIOKafkaProducer(**options, acks="all")
        await producer.start()
        try:
            sent = await producer.send_and_wait(READINESS_TOPIC, marker)
        finally:
            await producer.stop()
        await _read_back(options, sent.partition, sent.offset, marker)

    async def configure(self, ctx: Context) -> None:
        """With SASL: a user for each platform runtime, with the least ACLs it needs."""
        if not ctx.settings.kafka_sasl:
            return
        async with kafka_admin(self.access(ctx)) as admin:
            for user, grants in PLATFORM_GRANTS.items():
                await upsert_credential(admin, user, self.password(ctx, user), MECHANISM)
                await grant(admin, user, grants)

    def env(self, ctx: Context) -> dict[str, str]:
        """The admin's login for the operator, tools and tests; each runtime overrides it with
        its own user (`login_env` in its service's environment)."""
        return {"SIMPTU_KAFKA_BOOTSTRAP": self.bootstrap(ctx), **self.login_env(ctx, ADMIN_USER)}

    def endpoint(self, ctx: Context) -> str:
        return self.bootstrap(ctx)


def _jaas(module: str, user: str, password: str, *extra: str) -> str:
    options = " ".join((f'username="{user}"', f'password="{password}"', *extra))
    return f"org.apache.kafka.common.security.{module} required {options};"


async def _read_back(options: dict[str, Any], partition: int, offset: int,
                     marker: bytes) -> None:
    consumer = AIOKafkaConsumer(**options, enable_auto_commit=False)
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
