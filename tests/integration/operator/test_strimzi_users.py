"""With `topics_backend: strimzi` the operator declares a tenant's Kafka user as a Strimzi
`KafkaUser` (SCRAM-SHA-512, the tenant's ACLs, its password from a Secret beside it), which
the API server accepts against Strimzi's schema, and deletes it with the tenant."""

from __future__ import annotations

from kubernetes import client as k8s

from simptu.operator import kafka
from simptu.operator.kube_objects import KubeObjects
from simptu.runtime.core.kafka_access import KafkaAccess
from simptu.runtime.core.tenancy import TenantNames
from tests.integration.operator.test_strimzi_topics import strimzi_objects


async def test_a_tenants_kafka_user_is_declared_with_its_acls_and_removed(
    kube: k8s.ApiClient, namespace: str, strimzi_crds: tuple[str, ...], unique: str,
) -> None:
    # The operator's own login is SASL: only then are users made.
    backend = kafka.TopicBackend(kafka=KafkaAccess("unused:9092", "SCRAM-SHA-512", "admin", "x"),
                                 kind="strimzi", strimzi_namespace=namespace)
    tenant, objects = TenantNames(f"{unique}-gym"), KubeObjects(kube)
    user = await kafka.ensure_user(backend, objects, tenant, rotation="")
    [declared] = strimzi_objects(kube, namespace, "kafkausers")
    assert declared["metadata"]["name"] == f"tenant-{tenant.slug}"
    assert declared["spec"]["authentication"]["type"] == "scram-sha-512"
    assert {acl["resource"]["name"] for acl in declared["spec"]["authorization"]["acls"]} == {
        tenant.topic("inbound"), tenant.topic("outbound"), tenant.topic("events"),
        f"simptu-agent.{tenant.slug}"}
    secret = k8s.CoreV1Api(kube).read_namespaced_secret(f"{user.name}-password", namespace)
    assert secret.data["password"]
    await kafka.remove_user(backend, objects, tenant)
    assert strimzi_objects(kube, namespace, "kafkausers") == []
