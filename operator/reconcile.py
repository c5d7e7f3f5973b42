"""Bring one tenant to what its Tenant says, step by step, and describe the outcome in status.

Each step ensures its system and checks it; its condition says what it found in words. The
registry row is written last, only when every step is ready, so runtimes never route to a
half-provisioned tenant. Reconciling is level-based: the same function serves create, update,
resume and the drift timer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import hvac
from aiokafka.errors import KafkaError
from kubernetes import client as k8s
from redis.exceptions import RedisError

from simptu.operator import (
    channels,
    conditions,
    database_login,
    kafka,
    keycloak,
    postgres,
    redis_acl,
    spec_rules,
    vault,
    workloads,
)
from simptu.operator.metrics import RECONCILE_SECONDS, RECONCILES, STEP_SECONDS
from simptu.operator.platform import Platform
from simptu.operator.tenant_spec import TenantSpec
from simptu.runtime.core.crypto import CryptoError, TenantShredded
from simptu.runtime.core.events.topics import TopicError
from simptu.runtime.core.kafka_access import kafka_access
from simptu.runtime.core.registry import TenantRecord, set_tenant_channels, upsert_tenant
from simptu.runtime.core.tenancy import TenantNames

log = logging.getLogger(__name__)
PAUSE_ANNOTATION = "simptu.io/pause-reconciliation"
DEMO_LABEL = "simptu.io/demo"  # honoured only by an operator started with demo realms

# Failures of a system that may heal by themselves: retried with backoff, reported meanwhile.
TRANSIENT = (OSError, asyncpg.PostgresError, hvac.exceptions.VaultError, httpx.HTTPError,
             KafkaError, TopicError, kafka.KafkaSecurityError, keycloak.KeycloakError,
             k8s.ApiException, CryptoError, RedisError)


@dataclass(frozen=True)
class Finding:
    """What a step found: a problem a human can fix, or None and what is in place."""

    problem: str | None
    detail: str = ""
    reason: str = "Ready"  # of a True condition
    waiting: bool = False  # the problem heals without a human (pods starting): not Stalled


@dataclass
class Outcome:
    status: dict[str, Any]
    failed: list[str] = field(default_factory=list)
    permanent: bool = False


@dataclass
class Run:
    """One reconciliation: the tenant, its spec and the status being built."""

    platform: Platform
    tenant: TenantNames
    spec: TenantSpec
    body: dict[str, Any]
    generation: int
    conditions: list[dict[str, Any]]
    provisioned: dict[str, Any] = field(default_factory=dict)
    # The channel identifiers the registry gets once the tenant is routable.
    channel_identifiers: list[channels.Identifier] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    permanent: bool = False
    # The tenant's own credentials its steps made, delivered as Secrets of its namespace.
    own_secrets: list[workloads.TenantSecret] = field(default_factory=list)
    agent_login: database_login.AgentLogin | None = None

    def annotation(self, name: str) -> str:
        return str((self.body["metadata"].get("annotations") or {}).get(name) or "")

    def report(self, part: str, ok: bool, reason: str, message: str) -> None:
        self.conditions = conditions.set_condition(
            self.conditions, part, "True" if ok else "False", reason, message, self.generation)
        if not ok:
            self.failed.append(part)

    async def step(self, part: str, action: Callable[[], Awaitable[Finding]],
                   blocking: bool = True) -> None:
        """Run `action`: it ensures its system, checks it and says what it found. A problem
        of a part that is not `blocking` is reported but leaves the tenant Ready (a messaging
        channel's fault must not take the web chat and every other channel away)."""
        failed = list(self.failed)
        await self._step(part, action)
        if not blocking:
            self.failed = failed

    async def _step(self, part: str, action: Callable[[], Awaitable[Finding]]) -> None:
        try:
            with STEP_SECONDS.labels(step=part).time():
                finding = await action()
        except TenantShredded as error:
            self.permanent = True
            self.report(part, False, "Shredded", str(error))
        except TRANSIENT as error:
            self.report(part, False, "Unavailable", f"{type(error).__name__}: {error}")
        else:
            if finding.problem is None:
                self.report(part, True, finding.reason, finding.detail)
            else:
                reason = "InProgress" if finding.waiting else "NeedsAttention"
                self.report(part, False, reason, finding.problem)


async def reconcile(platform: Platform, body: dict[str, Any], drift: bool = False) -> Outcome:
    """Converge one tenant; `drift` for the periodic check (its own, narrower lanes)."""
    async with platform.drift_checking if drift else platform.reconciling:
        return await _reconcile(platform, body)


async def _reconcile(platform: Platform, body: dict[str, Any]) -> Outcome:
    started = time.monotonic()
    meta, status = body["metadata"], body.get("status") or {}
    run = Run(platform=platform, tenant=TenantNames(meta["name"]),
              spec=TenantSpec.model_validate(body["spec"]), body=body,
              generation=int(meta.get("generation", 1)),
              conditions=list(status.get("conditions") or []),
              provisioned=dict(status.get("provisioned") or {}))
    if (meta.get("annotations") or {}).get(PAUSE_ANNOTATION) == "true":
        return _paused(run)
    run.conditions = [c for c in run.conditions if c["type"] != "ReconciliationPaused"]
    invalid = spec_rules.problems(run.tenant.slug, body["spec"])
    if invalid:  # stored while no webhook answered: nothing is provisioned from it
        return _invalid(run, invalid)
    await run.step("DatabaseReady", lambda: _database(run))
    await run.step("EncryptionReady", lambda: _encryption(run))
    await run.step("TopicsReady", lambda: _topics(run))
    await run.step("AuthReady", lambda: _auth(run))
    await run.step("AgentReady", lambda: _agent(run))
    await run.step("ChannelsReady", lambda: _channels(run), blocking=False)
    if not run.failed:
        await run.step("Routable", lambda: _registry(run))
    outcome = _outcome(run)
    RECONCILES.labels(result="ok" if not run.failed else "error").inc()
    RECONCILE_SECONDS.observe(time.monotonic() - started)
    return outcome


async def _database(run: Run) -> Finding:
    p = run.platform
    version = await postgres.ensure(p.pool, run.tenant)
    run.provisioned.update(schema=run.tenant.schema, role=run.tenant.role, schemaVersion=version)
    problem = await postgres.check(p.pool, run.tenant)
    url = p.settings.agent_database_url
    max_days = p.settings.operator_agent_login_max_age_days
    login, refused = await database_login.ensure(
        p.pool, p.objects, run.tenant, database_url=url,
        rotation=run.annotation(database_login.ROTATE_ANNOTATION),
        max_age=dt.timedelta(days=max_days) if max_days else None)
    run.agent_login = login
    run.own_secrets.append(workloads.TenantSecret(
        database_login.SECRET, login.secret_data(url), login.secret_annotations()))
    return Finding(problem or (refused and f"agent login {login.login} refused: {refused}"),
                   f"schema {run.tenant.schema} at migration {version}, owned by its own role; "
                   f"the agent logs in as {login.login} (Secret {database_login.SECRET})")


async def _encryption(run: Run) -> Finding:
    p = run.platform
    version = await vault.ensure(p.pool, p.keystore, p.bao, run.tenant)
    run.provisioned.update(transitKey=run.tenant.transit_key, transitKeyVersion=version)
    return Finding(await vault.check(p.keystore, p.bao, run.tenant),
                   f"transit key {run.tenant.transit_key} v{version} wraps the data keys; "
                   "policy limited to it")


async def _topics(run: Run) -> Finding:
    p, k = run.platform, run.spec.kafka
    settings = kafka.topic_settings(k.partitions, k.replication_factor, k.retention_hours)
    run.provisioned["topics"] = await kafka.ensure(p.topics, p.objects, run.tenant, settings)
    return Finding(await kafka.check(p.topics, run.tenant, settings),
                   f"{len(run.provisioned['topics'])} topics, {k.partitions} partitions each, "
                   f"retention {k.retention_hours}h ({p.topics.kind})")


async def _auth(run: Run) -> Finding:
    p = run.platform
    labels = run.body["metadata"].get("labels") or {}
    realm = run.spec.realm(run.tenant.slug, demo=p.settings.operator_demo_realms,
                           demo_users=labels.get(DEMO_LABEL) == "true")
    issuer = await keycloak.ensure(p.keycloak, realm)
    run.provisioned.update(realm=run.tenant.slug, issuer=issuer)
    enabled = await keycloak.check(p.keycloak, run.tenant.slug)
    return Finding(None if enabled else "realm is disabled", f"realm {realm.slug} at {issuer}")


async def _agent(run: Run) -> Finding:
    p = run.platform
    spec = run.spec.workload(run.tenant.slug, p.settings.operator_agent_image,
                             workloads.agent_platform(p.settings,
                                                      p.settings.operator_agent_host_network))
    kafka_user = await _kafka_user(run)
    kafka_secrets = () if kafka_user is None else (
        kafka_user.secret(kafka_access(p.topics.kafka).mechanism),)
    spec = dataclasses.replace(spec, own_secrets=(*run.own_secrets, *kafka_secrets))
    owner = workloads.owner_reference(run.body)
    redis = await redis_acl.ensure(p.redis, p.objects, run.tenant, run.body)
    spec = dataclasses.replace(spec, own_secrets=(*spec.own_secrets, redis.secret(
        run.tenant, p.settings.redis_url.get_secret_value())))
    await workloads.ensure(p.objects, spec, owner)
    # The agent's earlier Postgres logins are dropped once no pod uses them.
    login = run.agent_login.login if run.agent_login else ""
    replaced = login and await database_login.retire_replaced(
        p.pool, p.objects, run.tenant, login, workloads.manifests(spec, owner))
    run.provisioned["namespace"] = run.tenant.namespace
    state = await workloads.check(p.objects, spec, owner)
    if problem := await redis_acl.check(p.redis, run.tenant, redis):
        return Finding(problem)
    if redis.retiring is not None:
        return Finding("rolling the agent's pods onto a rotated Redis password", waiting=True)
    if kafka_user is not None and kafka_user.retiring is not None:
        return Finding(f"rolling the agent's pods onto Kafka user {kafka_user.name}; "
                       f"{kafka_user.retiring} stays valid until then", waiting=True)
    if replaced:
        return Finding(f"rolling the agent's pods onto Postgres login {login}; "
                       f"{replaced} replaced login(s) stay valid until then", waiting=True)
    replicas = f"{state.ready_replicas}/{state.desired_replicas} agent replicas ready"
    if state.missing:
        return Finding(f"missing after apply: {', '.join(state.missing)}")
    if state.missing_secrets:
        return Finding(f"Secret {', '.join(state.missing_secrets)} not found in namespace "
                       f"{run.tenant.namespace}: create it (see the Tenant example's header)")
    if state.ready_replicas >= state.desired_replicas:
        return Finding(None, f"namespace {run.tenant.namespace}: {replicas}")
    if p.settings.operator_agent_readiness == "available":
        return Finding(replicas, waiting=True)
    # No node runs the pods (local stack): True must not sit beside "0/1 ready".
    wanted = f"{state.desired_replicas} replica{'' if state.desired_replicas == 1 else 's'}"
    return Finding(None, f"namespace {run.tenant.namespace}: agent Deployment applied for "
                   f"{wanted}; readiness is declared, not observed "
                   "(SIMPTU_OPERATOR_AGENT_READINESS=declared: no node runs the agent pods "
                   "here, one local worker serves every tenant)", reason="Declared")


async def _kafka_user(run: Run) -> kafka.KafkaUser | None:
    """The tenant's own Kafka user for its agent (on a SASL broker only)."""
    p = run.platform
    if not kafka.users_enabled(p.topics):
        return None
    rotation = run.annotation(kafka.ROTATION)
    user = await kafka.ensure_user(p.topics, p.objects, run.tenant, rotation)
    problem = await kafka.check_user(p.topics, run.tenant, user)
    if problem is not None:
        raise kafka.KafkaSecurityError(problem)
    run.provisioned["kafkaUser"] = user.name
    return user


async def _channels(run: Run) -> Finding:
    p = run.platform
    found = await channels.provision(p.pool, p.keyring, p.objects, p.registry_index, run.tenant,
                                     run.body["spec"].get("channels") or {})
    run.channel_identifiers = found.identifiers
    return Finding(found.problem, found.detail)


async def _being_deleted(run: Run) -> bool:
    """Whether the Tenant is gone or going now (this reconcile may have started before)."""
    live = await run.platform.objects.get({"apiVersion": "simptu.io/v1alpha1", "kind": "Tenant",
                                           "metadata": {"name": run.tenant.slug}})
    return live is None or bool(live["metadata"].get("deletionTimestamp"))


async def _registry(run: Run) -> Finding:
    p, spec = run.platform, run.spec
    if await _being_deleted(run):
        return Finding(None, "being deleted: not registered")
    record = TenantRecord(
        slug=run.tenant.slug, status="Suspended" if spec.suspended else "Ready",
        business_type=spec.business_type, display_name=spec.display_name,
        schema_name=run.tenant.schema, transit_key=run.tenant.transit_key,
        auth_issuer=run.provisioned.get("issuer"), locale=spec.locale, timezone=spec.timezone,
        # The API answers CORS and issues guest tokens only for these origins.
        web_origins=list(spec.channels.web.allowed_origins), generation=run.generation,
        agent=spec.agent.registered())
    async with p.pool.acquire() as conn:
        await upsert_tenant(conn, p.redis, record)
        await set_tenant_channels(conn, run.tenant.slug,
                                  channels.registry_rows(run.channel_identifiers))
    return Finding(None, f"registered as {record.status}: runtimes route to it")


def _paused(run: Run) -> Outcome:
    run.conditions = conditions.set_condition(
        run.conditions, "ReconciliationPaused", "True", "AnnotationSet",
        f"{PAUSE_ANNOTATION} is \"true\": no changes are made to this tenant", run.generation)
    status = {"phase": "Paused", "conditions": run.conditions}
    return Outcome(status=status)


def _invalid(run: Run, problems: list[str]) -> Outcome:
    message = "; ".join(problems)
    run.conditions = conditions.set_condition(
        run.conditions, "Ready", "False", "InvalidSpec", message, run.generation)
    run.conditions = conditions.progress(run.conditions, run.generation, ["Ready"], True)
    status = {"phase": "Failed", "observedGeneration": run.generation,
              "conditions": run.conditions, "lastError": message}
    return Outcome(status=status, failed=["Ready"], permanent=True)


def _outcome(run: Run) -> Outcome:
    run.conditions = conditions.summarise(run.conditions, run.generation)
    if "Routable" in run.failed:  # every part is fine, but runtimes cannot find the tenant
        routable = next(c for c in run.conditions if c["type"] == "Routable")
        run.conditions = conditions.set_condition(
            run.conditions, "Ready", "False", "NotRoutable", routable["message"], run.generation)
    if run.failed:
        phase = "Failed" if run.permanent else "Provisioning"
        first = next(c for c in run.conditions if c["type"] == run.failed[0])
        last_error = f"{run.failed[0]}: {first['message']}"
    else:
        phase, last_error = ("Suspended" if run.spec.suspended else "Ready"), ""
    run.conditions = conditions.progress(run.conditions, run.generation, run.failed,
                                         run.permanent)
    status = {"phase": phase, "observedGeneration": run.generation,
              "conditions": run.conditions, "provisioned": run.provisioned,
              "lastError": last_error}
    return Outcome(status=status, failed=run.failed, permanent=run.permanent)
