"""What a tenant's agent gets of its Kafka user: the Secret, the per-tenant consumer group, a
pod roll when the password changes; and the Strimzi KafkaUser saying the same ACLs."""

from __future__ import annotations

from typing import Any

from simptu.operator import kafka
from simptu.operator.workloads import AgentSpec, manifests, owner_reference
from simptu.runtime.core.events.kafka_users import tenant_grants
from simptu.runtime.core.tenancy import TenantNames

TENANT = {"metadata": {"name": "zambet-dental", "uid": "0b8f6a1e-5d6c-4a8e-9a43-3b5f1e2c7d90"}}


def _objects(password: str) -> dict[str, dict[str, Any]]:
    user = kafka.KafkaUser("tenant-zambet-dental", password, rotation="r1")
    spec = AgentSpec(slug="zambet-dental", business_type="dental-clinic", image="simptu/agent:t",
                     own_secrets=(user.secret("SCRAM-SHA-512"),))
    return {f"{o['kind']}/{o['metadata']['name']}": o
            for o in manifests(spec, owner_reference(TENANT))}


def test_the_agent_logs_in_with_its_own_kafka_user_from_a_secret_and_its_own_group() -> None:
    objects = _objects("pw-1")
    secret = objects["Secret/agent-kafka"]
    assert secret["metadata"]["namespace"] == "tenant-zambet-dental"
    assert secret["stringData"] == {"SIMPTU_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
                                    "SIMPTU_KAFKA_USERNAME": "tenant-zambet-dental",
                                    "SIMPTU_KAFKA_PASSWORD": "pw-1"}
    container = objects["Deployment/agent"]["spec"]["template"]["spec"]["containers"][0]
    assert {"secretRef": {"name": "agent-kafka"}} in container["envFrom"]
    config = objects["ConfigMap/agent-config"]["data"]
    assert config["SIMPTU_AGENT_GROUP_ID"] == "simptu-agent.zambet-dental"
    assert "pw-1" not in str(objects["Deployment/agent"])  # a digest, never the password


def test_a_rotated_password_rolls_the_agent_pods() -> None:
    def template(password: str) -> dict[str, Any]:
        return dict(_objects(password)["Deployment/agent"]["spec"]["template"]["metadata"])

    assert template("pw-1")["annotations"] == template("pw-1")["annotations"]
    assert template("pw-1")["annotations"] != template("pw-2")["annotations"]


def test_in_strimzi_mode_a_kafka_user_declares_the_same_acls_and_our_password() -> None:
    backend = kafka.TopicBackend(kafka="unused", kind="strimzi", strimzi_namespace="kafka")
    tenant = TenantNames("zambet-dental")
    secret, user = kafka.strimzi_user(backend, tenant, kafka.KafkaUser(
        "tenant-zambet-dental", "pw-1", ""))
    assert (secret["kind"], secret["stringData"]) == ("Secret", {"password": "pw-1"})
    assert user["metadata"]["labels"]["strimzi.io/cluster"] == "simptu"
    assert user["spec"]["authentication"] == {"type": "scram-sha-512", "password": {
        "valueFrom": {"secretKeyRef": {"name": secret["metadata"]["name"], "key": "password"}}}}
    acls = {(a["resource"]["type"], a["resource"]["name"], a["resource"]["patternType"],
             *a["operations"]) for a in user["spec"]["authorization"]["acls"]}
    assert acls == {("topic", "simptu.zambet-dental.inbound", "literal", "Read"),
                    ("topic", "simptu.zambet-dental.outbound", "literal", "Write"),
                    ("topic", "simptu.zambet-dental.events", "literal", "Write"),
                    ("group", "simptu-agent.zambet-dental", "literal", "Read")}
    assert len(acls) == len(tenant_grants(tenant))
