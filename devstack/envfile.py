"""The env file `make up` writes: KEY=VALUE lines that tests, runtimes and shells read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import cast

from simptu.devstack.settings import DevstackSettings
from simptu.runtime.core.kafka_access import KafkaAccess, Mechanism


def read_env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return dict(pairs)


# The administrator's token of the stack's own tools (bao, tests): never in a platform process.
ADMIN_ONLY = ("BAO_TOKEN", "VAULT_TOKEN")


def platform_env(path: Path) -> dict[str, str]:
    """The env file as the platform's processes get it: without the OpenBao root token."""
    return {key: value for key, value in read_env_file(path).items() if key not in ADMIN_ONLY}


def write_env_file(path: Path, values: dict[str, str]) -> None:
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    path.chmod(0o600)  # it holds credentials


@dataclass(frozen=True)
class StackEnv:
    """The local stack's settings, with names for the ones every client needs."""

    values: dict[str, str]

    @classmethod
    def load(cls, path: Path) -> StackEnv:
        return cls(read_env_file(path))

    def __getitem__(self, key: str) -> str:
        return self.values[key]

    @property
    def database_url(self) -> str:
        return self.values["SIMPTU_DATABASE_URL"]

    @property
    def redis_url(self) -> str:
        return self.values["SIMPTU_REDIS_URL"]

    @property
    def kafka_bootstrap(self) -> str:
        return self.values["SIMPTU_KAFKA_BOOTSTRAP"]

    @property
    def kafka(self) -> KafkaAccess:
        """The brokers and the login the file holds (the admin's on a SASL broker, none on a
        plaintext one): what tests and tools connect with."""
        return KafkaAccess(self.kafka_bootstrap,
                           cast(Mechanism, self.values.get("SIMPTU_KAFKA_SASL_MECHANISM", "")),
                           self.values.get("SIMPTU_KAFKA_USERNAME", ""),
                           self.values.get("SIMPTU_KAFKA_PASSWORD", ""))

    @property
    def kubeconfig(self) -> str:
        return self.values["KUBECONFIG"]

    @property
    def node(self) -> bool:
        """Whether the stack runs its node (each tenant's agent as its own pods); a file written
        before it said so: as this process's settings say."""
        if "SIMPTU_NODE" in self.values:
            return self.values["SIMPTU_NODE"] == "1"
        return DevstackSettings().node
