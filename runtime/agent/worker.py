"""The worker process: consumes the inbound topic of one tenant (`--tenant`, as the tenant's
Deployment runs it) or of every Ready tenant (`--all`, locally; tenants that become Ready later
are picked up), and answers each event once, whatever is redelivered."""

from __future__ import annotations

import structlog
from pydantic import SecretStr

from simptu.runtime.agent.intents import IntentClassifier
from simptu.runtime.agent.settings import AgentSettings
from simptu.runtime.agent.tenants import ServedTenants
from simptu.runtime.agent.turn import Turns
from simptu.runtime.core.events import PostgresIdempotency
from simptu.runtime.core.events.tenant_topics import TenantTopics
from simptu.runtime.core.readiness import dependency_checks
from simptu.runtime.core.tenancy import slug_matches
from simptu.runtime.core.wiring import Core, open_core

log = structlog.get_logger(__name__)
# The consumer name of the agent's idempotency records: every replica and worker shares it,
# so an event is answered once however many workers see it.
CONSUMER = "agent"


class AgentWorker:
    def __init__(self, settings: AgentSettings, tenant: str | None) -> None:
        self.settings = settings
        self.tenant = tenant
        self.topics = TenantTopics(
            settings.kafka, settings.agent_group_id, "simptu-agent", "inbound",
            settings.agent_tenant_refresh_seconds, tenant=tenant,
            wanted=lambda slug: (slug_matches(slug, settings.agent_tenants)
                                 and not slug_matches(slug, settings.agent_skip_tenants)))
        self.core: Core | None = None

    @property
    def ready(self) -> bool:
        return self.topics.ready

    async def checks(self) -> dict[str, str]:
        """What a turn needs, each "ok" or why not: Postgres, Redis, Kafka, OpenBao unsealed."""
        if self.core is None:
            return {"core": "starting"}
        core = self.core
        return await dependency_checks(core.pool, core.redis, core.producer, core.keystore)

    def stop(self) -> None:
        self.topics.stop()

    async def run(self) -> None:
        # No linger: a reply's deltas should reach the customer as they are made.
        async with open_core(self.settings, client_id="simptu-agent", linger_ms=0,
                             tenant=self.tenant) as core:
            self.core = core
            classifier = IntentClassifier(core.embedder.embed)
            await classifier.warm_up()  # the intents' example vectors, computed once
            # An idle tenant's pod stays small (~100 MB less): the model loads again, in about
            # 0.3 s, for the first message the rules cannot read or the first FAQ search.
            core.embedder.unload()
            tenants = ServedTenants(self.settings.database_url.get_secret_value(), core.keyring,
                                    classifier, pool_size=self.settings.agent_checkpoint_pool_size,
                                    credentials=self._credentials)
            turns = Turns(core.registry, core.keyring, tenants, core.producer, core.pool,
                          self.settings.agent_interrupt_poll_seconds, core.embedder, core.redis)
            once = PostgresIdempotency(core.pool, CONSUMER).processor(turns.handle)
            try:
                await self.topics.consume(core.pool, once)
            finally:
                await tenants.close()

    def _credentials(self, slug: str) -> SecretStr | None:
        if self.tenant is not None:  # a tenant's own Deployment
            return self.settings.model_credentials
        return self.settings.model_credentials_by_tenant.get(slug)
