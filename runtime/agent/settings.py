"""The agent worker's settings (`SIMPTU_AGENT_*`); connections come from `CoreSettings`."""

from __future__ import annotations

import os
import re

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class AgentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SIMPTU_AGENT_", extra="ignore")

    port: int = Field(8080, description="/healthz, /readyz and /metrics")
    host: str = "0.0.0.0"  # noqa: S104 - a pod's probes and scrapes come from outside it
    # One consumer group for every worker: replicas of one tenant share its partitions.
    group_id: str = "simptu-agent"
    # `--all`: how often the worker looks for tenants that became Ready (or stopped being).
    tenant_refresh_seconds: float = Field(10.0, gt=0)
    # `--all`: which tenants (shell patterns of slugs, comma-separated), and which of those
    # to leave to workers of their own (e.g. the tests' tenants, which run their own worker).
    tenants: str = "*"
    skip_tenants: str = ""
    # Connections per tenant for checkpoints.
    checkpoint_pool_size: int = Field(4, ge=1, le=50)
    # interrupt policy: how often a running turn looks for a newer message of its session.
    interrupt_poll_seconds: float = Field(0.05, gt=0)
    log_level: str = "INFO"


def credentials_variable(slug: str) -> str:
    """The environment variable the local all-tenants worker reads a tenant's model credentials
    from (`SIMPTU_AGENT_CREDENTIALS_<SLUG>`, dashes as underscores); a tenant's own Deployment
    gets them in `SIMPTU_MODEL_CREDENTIALS` from the Secret its spec names."""
    return "SIMPTU_AGENT_CREDENTIALS_" + re.sub(r"[^A-Z0-9]", "_", slug.upper())


def model_credentials(slug: str, dedicated: bool) -> SecretStr | None:
    value = os.environ.get("SIMPTU_MODEL_CREDENTIALS" if dedicated
                           else credentials_variable(slug))
    return SecretStr(value) if value else None
