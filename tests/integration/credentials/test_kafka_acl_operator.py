"""The operator's Kafka user steps (operator/kafka.py) on a private SASL broker and the
stack's real kube-apiserver: the user's password is kept while the Tenant's rotation
annotation stays; when it changes the tenant's other user gets a new password, both log in
until no pod of the old template is left, then the old user is refused; the broker holds
exactly the tenant's ACLs, and removing the users leaves nothing that can log in."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiokafka.errors import SaslAuthenticationFailed
from kubernetes import client as k8s

from simptu.operator import kafka, workloads
from simptu.operator.kube_objects import KubeObjects
from simptu.runtime.core.events import kafka_users
from simptu.runtime.core.events.topics import kafka_admin
from simptu.runtime.core.tenancy import TenantNames
from tests.integration.credentials.sasl_kafka import SaslKafka, login

TENANT = {"metadata": {"name": "unused", "uid": "0b8f6a1e-5d6c-4a8e-9a43-3b5f1e2c7d90"}}


@pytest.fixture
async def objects(kube: k8s.ApiClient, unique: str) -> AsyncIterator[KubeObjects]:
    made = await KubeObjects.connect(kube)
    yield made
    await made.delete([{"apiVersion": "v1", "kind": "Namespace",
                        "metadata": {"name": TenantNames(f"{unique}-a").namespace}}])


async def deliver(objects: KubeObjects, tenant: TenantNames, user: kafka.KafkaUser,
                  mechanism: str) -> None:
    """The tenant's namespace and its Secret `agent-kafka`, as workloads.ensure applies them
    (the Deployment left out: no agent pod is wanted here; no owner either: the garbage
    collector deletes what a missing Tenant owns)."""
    spec = workloads.AgentSpec(slug=tenant.slug, business_type="dental-clinic", image="unused",
                               own_secrets=(user.secret(mechanism),))
    bodies = [body for body in workloads.manifests(spec, workloads.owner_reference(TENANT))
              if body["kind"] in ("Namespace", "Secret")]
    for body in bodies:
        body["metadata"].pop("ownerReferences", None)
    await objects.apply(bodies)


async def test_the_operator_keeps_rotates_and_removes_a_tenants_kafka_user(
    sasl_broker: SaslKafka, objects: KubeObjects, unique: str,
) -> None:
    backend = kafka.TopicBackend(kafka=sasl_broker.admin)
    tenant, mechanism = TenantNames(f"{unique}-a"), sasl_broker.admin.mechanism
    first = await kafka.ensure_user(backend, objects, tenant, rotation="")
    await deliver(objects, tenant, first, mechanism)
    assert await kafka.check_user(backend, tenant, first) is None
    again = await kafka.ensure_user(backend, objects, tenant, rotation="")
    assert again.password == first.password  # read back from the Secret: no needless roll
    await login(sasl_broker.admin.as_user(again.name, again.password))

    rotated = await kafka.ensure_user(backend, objects, tenant, rotation="2026-12-07")
    assert rotated.password != first.password
    assert (rotated.name, rotated.retiring) == (kafka_users.tenant_users(tenant)[1], first.name)
    await deliver(objects, tenant, rotated, mechanism)
    assert await kafka.check_user(backend, tenant, rotated) is None
    # Until the pods have rolled both users log in: a pod of the old template may reconnect.
    for user in (rotated, first):
        await login(sasl_broker.admin.as_user(user.name, user.password))
    # No Deployment here, so no pod of the old template: the next pass retires its user.
    settled = await kafka.ensure_user(backend, objects, tenant, rotation="2026-12-07")
    assert (settled.name, settled.password, settled.retiring) == (
        rotated.name, rotated.password, None)
    await deliver(objects, tenant, settled, mechanism)
    await login(sasl_broker.admin.as_user(settled.name, settled.password))
    with pytest.raises(SaslAuthenticationFailed):
        await login(sasl_broker.admin.as_user(first.name, first.password))

    # The next rotation moves back to the first user, with a new password.
    back = await kafka.ensure_user(backend, objects, tenant, rotation="2026-12-08")
    assert (back.name, back.retiring) == (first.name, settled.name)
    assert back.password != first.password
    await login(sasl_broker.admin.as_user(back.name, back.password))

    await kafka.remove_user(backend, objects, tenant)
    for user in (back, settled):
        with pytest.raises(SaslAuthenticationFailed):
            await login(sasl_broker.admin.as_user(user.name, user.password))
    async with kafka_admin(sasl_broker.admin) as admin:
        for name in kafka_users.tenant_users(tenant):
            assert await kafka_users.granted(admin, name) == set()


async def test_acls_granted_to_a_tenants_user_by_hand_are_taken_away(
    sasl_broker: SaslKafka, objects: KubeObjects, unique: str,
) -> None:
    backend = kafka.TopicBackend(kafka=sasl_broker.admin)
    tenant = TenantNames(f"{unique}-a")
    user = await kafka.ensure_user(backend, objects, tenant, rotation="")
    extra = kafka_users.Grant(kafka_users.TOPIC, "simptu.", kafka_users.READ, kafka_users.PREFIXED)
    async with kafka_admin(sasl_broker.admin) as admin:
        await kafka_users.grant(admin, user.name, [extra])
    problem = await kafka.check_user(backend, tenant, user)
    assert problem is not None
    assert "simptu." in problem
    await kafka.ensure_user(backend, objects, tenant, rotation="")  # the drift timer's pass
    assert await kafka.check_user(backend, tenant, user) is None
    await kafka.remove_user(backend, objects, tenant)
