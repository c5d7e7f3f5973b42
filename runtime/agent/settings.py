"""The agent worker's settings: the shared ones (`SIMPTU_*`, runtime/core/settings), its own
(`SIMPTU_AGENT_*`) and the hosted models' credentials (`SIMPTU_MODEL_*`), read once when the
worker starts."""

from __future__ import annotations

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
    # The hosted model's credentials (an API key, or AWS keys as ID:SECRET) of the one tenant
    # a dedicated worker serves: its Deployment fills them from the Secret the Tenant names.
    model_credentials: SecretStr | None = None
    # `--all`: each tenant's, by slug, as JSON (`{"zambet-dental": "sk-..."}`).
    model_credentials_by_tenant: dict[str, SecretStr] = Field(default_factory=dict)
