"""The agent worker's settings: the shared ones (`SIMPTU_*`, runtime/core/settings) and its own
(`SIMPTU_AGENT_*`), read once when the worker starts."""

from __future__ import annotations

import os
import re

from pydantic import Field, SecretStr

from simptu.runtime.core.settings import CoreSettings


class AgentSettings(CoreSettings):
    # Where /healthz, /readyz and /metrics listen.
    agent_port: int = 8080
    agent_host: str = "0.0.0.0"  # noqa: S104 - a pod's probes and scrapes come from outside it
    # The one tenant this worker serves (a tenant's Deployment); `--tenant` wins over it.
    agent_tenant: str | None = None
    # One consumer group for every worker: replicas of one tenant share its partitions.
    agent_group_id: str = "simptu-agent"
    # `--all`: how often the worker looks for tenants that became Ready (or stopped being).
    agent_tenant_refresh_seconds: float = Field(10.0, gt=0)
    # `--all`: which tenants (shell patterns of slugs, comma-separated), and which of those
    # to leave to workers of their own (e.g. the tests' tenants, which run their own worker).
    agent_tenants: str = "*"
    agent_skip_tenants: str = ""
    # Connections per tenant for checkpoints.
    agent_checkpoint_pool_size: int = Field(4, ge=1, le=50)
    # interrupt policy: how often a running turn looks for a newer message of its session.
    agent_interrupt_poll_seconds: float = Field(0.05, gt=0)
    # Logging level of the process (DEBUG, INFO, WARNING, ERROR).
    agent_log_level: str = "INFO"


def credentials_variable(slug: str) -> str:
    """The environment variable the local all-tenants worker reads a tenant's model credentials
    from (`SIMPTU_AGENT_CREDENTIALS_<SLUG>`, dashes as underscores); a tenant's own Deployment
    gets them in `SIMPTU_MODEL_CREDENTIALS` from the Secret its spec names."""
    return "SIMPTU_AGENT_CREDENTIALS_" + re.sub(r"[^A-Z0-9]", "_", slug.upper())


def model_credentials(slug: str, dedicated: bool) -> SecretStr | None:
    # Read when a tenant's model is first made, not at import; one variable per tenant has no
    # place in a fixed settings model (issue 15's closing note names what remains).
    value = os.environ.get("SIMPTU_MODEL_CREDENTIALS" if dedicated
                           else credentials_variable(slug))
    return SecretStr(value) if value else None
