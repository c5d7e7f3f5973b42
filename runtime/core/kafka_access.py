"""How a process reaches Kafka: the brokers and, on a broker with SASL listeners, whose
credentials it logs in with. Every Kafka client of the platform (producer, consumer, admin,
the hub's reader) is built from one of these through `client_options`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Mechanism = Literal["", "SCRAM-SHA-256", "SCRAM-SHA-512"]


@dataclass(frozen=True)
class KafkaAccess:
    """The brokers, and the SCRAM login (`mechanism` empty: a plaintext broker, no login)."""

    bootstrap: str
    mechanism: Mechanism = ""
    username: str = ""
    password: str = field(default="", repr=False)

    def client_options(self) -> dict[str, Any]:
        """aiokafka's connection arguments, the same for every kind of client."""
        if not self.mechanism:
            return {"bootstrap_servers": self.bootstrap}
        return {"bootstrap_servers": self.bootstrap, "security_protocol": "SASL_PLAINTEXT",
                "sasl_mechanism": self.mechanism, "sasl_plain_username": self.username,
                "sasl_plain_password": self.password}

    def as_user(self, username: str, password: str) -> KafkaAccess:
        """The same brokers and mechanism, logged in as someone else."""
        return KafkaAccess(self.bootstrap, self.mechanism, username, password)


def kafka_access(kafka: KafkaAccess | str) -> KafkaAccess:
    """A bare `host:port` list means a plaintext broker (tests and tools on the local stack)."""
    return kafka if isinstance(kafka, KafkaAccess) else KafkaAccess(kafka)
